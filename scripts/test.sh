#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them all.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

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
