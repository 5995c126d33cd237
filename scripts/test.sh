#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them all.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

say "cargo test (unit, integration, snapshot, CLI tests)"
cargo test --locked --all-targets
