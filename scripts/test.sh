#!/usr/bin/env bash
# Set up everything on a fresh machine (wasm target, plugins, bubblewrap for
# the local sandbox, pyarrow for the parquet checks, pytest for the Python
# SDK and environments; the tests install componentize-py into
# target/assay-tools through `assay plugin build`) and run every test: unit
# tests, plugin tests and the end-to-end tests in tests/. Extra arguments go
# to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-plugins.sh
if ! command -v bwrap >/dev/null 2>&1; then
    echo "Installing bubblewrap (apt): the local code and workspace sandbox..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends bubblewrap >/dev/null \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends bubblewrap >/dev/null; } \
        || { echo "error: could not install bubblewrap; run 'apt-get install bubblewrap' and retry" >&2; exit 1; }
fi
if ! python3 -c "import pyarrow" 2>/dev/null; then
    echo "Installing pyarrow (the parquet tests read assay's files with it)..." >&2
    python3 -m pip install --quiet pyarrow || {
        echo "error: could not install pyarrow; run 'python3 -m pip install pyarrow' and retry" >&2
        exit 1
    }
fi
if ! python3 -c "import pytest" 2>/dev/null; then
    echo "Installing pytest (the Python SDK and Python environments are tested with it)..." >&2
    python3 -m pip install --quiet pytest || {
        echo "error: could not install pytest; run 'python3 -m pip install pytest' and retry" >&2
        exit 1
    }
fi
cargo test --workspace "$@"
