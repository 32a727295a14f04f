#!/usr/bin/env bash
# Set up everything on a fresh machine (wasm target, plugins, host) and run
# the quickstart: the mcq environment on a 20-question sample set with the
# built-in offline oracle model. Extra arguments go to `assay bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-plugins.sh
cargo build -p assay
target/debug/assay bench --config configs/quickstart.yaml "$@"
