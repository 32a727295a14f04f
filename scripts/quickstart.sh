#!/usr/bin/env bash
# Set up everything on a fresh machine (wasm target, plugins, host) and run
# the quickstart: the mcq environment on a 20-question sample set with the
# built-in offline oracle model. Extra arguments go to `assay bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-plugins.sh
# `--workspace --all-targets` resolves dependency features exactly as
# `cargo test --workspace` does (dev-dependencies change them), so running
# the quickstart and the tests compiles wasmtime and friends once, not twice.
cargo build --workspace --all-targets
target/debug/assay bench --config configs/quickstart.yaml "$@"
