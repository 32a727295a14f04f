#!/usr/bin/env bash
# Set up everything on a fresh machine (wasm target, plugins) and run every
# test: unit tests, plugin tests and the end-to-end tests in tests/.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-plugins.sh
cargo test --workspace "$@"
