#!/usr/bin/env bash
# Build every environment plugin in the workspace (plugins/* and the test
# plugins in tests/plugins/*) as WebAssembly components, installing the
# wasm32-wasip2 target first if it is missing.
# Output: target/wasm32-wasip2/plugin/<name>.wasm
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "Installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)..." >&2
    if ! rustup target add wasm32-wasip2; then
        echo "error: could not install the wasm32-wasip2 target; run 'rustup target add wasm32-wasip2' and retry" >&2
        exit 1
    fi
fi

# Every workspace member except the host, the SDK, the native tools
# (tools/*) and the catalogue tests' fixture reader is a plugin.
cargo build --workspace --exclude assay --exclude assay-sdk --exclude openai-stub --exclude catalogue-fixtures \
    --target wasm32-wasip2 --profile plugin
