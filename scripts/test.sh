#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them all.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# The check and conformance tests run the lessons' servers in Node.js with the real socket.io
# (tests/node). Install Node.js when it is missing and we can; otherwise stop and say what to
# install: those tests fail without it, they are never skipped.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Node.js and npm (apt-get install nodejs npm)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
    fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: the tests need Node.js (18 or later) and npm; on Debian: apt-get install -y nodejs npm" >&2
    exit 1
fi
# Lessons 6 and 7: a private redis-server (the scaling-out tests start one), and the tools npm
# needs to build sqlite3 from source for tests/node (its prebuilt binaries come from GitHub,
# which may be out of reach): python3, make and a C++ compiler. man-db: the man page test reads
# `realtime-tutor man` through `man -l -`.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v man >/dev/null 2>&1 || missing+=(man-db)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# The sequence diagrams are drawn by rsvg-convert too, a renderer that is not a browser.
command -v rsvg-convert >/dev/null 2>&1 || missing+=(librsvg2-bin)
# `doctor`'s tests put a real nginx in front of Node servers (tests/suite/doctor_nginx.rs).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${missing[*]} (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "error: the tests need ${missing[*]}: run this script as root, or apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

# npm ci when node_modules is missing or was installed from another package-lock.json.
stamp=tests/node/node_modules/.installed-from-package-lock.json
# sqlite3's install script builds it (about a minute); package.json's allowScripts approves it by
# name, so npm runs it without warning that it is unreviewed.
if ! cmp -s tests/node/package-lock.json "$stamp"; then
    say "npm ci (the Node.js fixture in tests/node; sqlite3 is compiled, which takes a while)"
    (cd tests/node && npm ci --no-audit --no-fund)
    cp tests/node/package-lock.json "$stamp"
fi

# The client's conformance tests also talk to python-socketio (tests/python), a second Socket.IO
# implementation: a virtual environment with the pinned packages, made again when they change.
pystamp=tests/python/.venv/.installed-from-requirements.txt
if ! cmp -s tests/python/requirements.txt "$pystamp"; then
    say "python-socketio (a venv in tests/python from requirements.txt)"
    python3 -m venv tests/python/.venv
    tests/python/.venv/bin/pip install --quiet -r tests/python/requirements.txt
    cp tests/python/requirements.txt "$pystamp"
fi

# The book (book/) is built with a pinned mdBook; the book tests in the suite run it too.
# Installed once into ~/.cargo/bin (a few minutes), skipped when that version is already there.
MDBOOK_VERSION=0.5.4
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$MDBOOK_VERSION" ]; then
  say "installing mdbook $MDBOOK_VERSION"
  cargo install mdbook --version "$MDBOOK_VERSION" --locked --no-default-features --features search,serve
fi

say "mdbook build book"
# mdBook exits 0 even when an include is broken: fail on a logged error or a leftover directive.
book_log=$(mdbook build book 2>&1) || { printf '%s\n' "$book_log"; exit 1; }
printf '%s\n' "$book_log"
if grep -q 'ERROR' <<<"$book_log"; then
  echo "error: mdbook logged an error while building the book" >&2
  exit 1
fi
if grep -rl --include='*.html' '{{#' book/book; then
  echo "error: the rendered book still contains unexpanded {{#...}} directives (files above)" >&2
  exit 1
fi

# `serve`'s end-to-end tests (tests/browser, driven from tests/suite/serve.rs) need a real browser
# (Debian's chromium), Node.js and the packages pinned in tests/browser/package-lock.json.
say "serve: chromium, Node.js and tests/browser/node_modules"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: the browser tests need ${missing[*]}: run this script as root, or apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
    [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund)
fi

say "cargo test (unit, integration, snapshot, CLI tests)"
cargo test --locked --all-targets
