#!/usr/bin/env bash
# Measure a Python environment beside the Rust one doing the same task (the
# README's "Python environments" table): component size, first and cached
# load, per-call cost (cargo bench --bench python), then 10,000-sample runs
# against the stub server with the Rust `mcq` plugin and with the Python
# `mcq` template (cargo bench --bench throughput). componentize-py is
# installed on first use into target/assay-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-plugins.sh
cargo bench -p assay --bench python
echo; echo "Rust mcq, 10,000 samples:"
ASSAY_BENCH_SIZES=10000 cargo bench -p assay --bench throughput
echo; echo "Python mcq template, 10,000 samples:"
ASSAY_BENCH_SIZES=10000 ASSAY_BENCH_PLUGIN="$PWD/target/python-bench/pymcq/build/pymcq.wasm" \
    cargo bench -p assay --bench throughput
