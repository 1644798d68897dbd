#!/usr/bin/env bash
# Runs Palisade's whole test suite: installs what it needs (scripts/setup.sh), then the
# Rust tests, lints and the tests that drive real tools (Python, in tests/python/).
# Under CI=true a missing tool is a failure, never a skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo build (debug, all targets)"
cargo build --workspace --all-targets --locked

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

if compgen -G "tests/python/test_*.py" >/dev/null; then
    step "pytest (real tools)"
    rc=0
    .venv/bin/python -m pytest tests/python -q -rs || rc=$?
    # pytest exits 5 when it collected nothing; that would mean the suite is broken.
    [ "$rc" -eq 0 ] || exit "$rc"
fi

step "all tests passed"
