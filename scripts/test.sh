#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them all.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

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

say "cargo test (unit, integration, snapshot, CLI tests)"
cargo test --locked --all-targets
