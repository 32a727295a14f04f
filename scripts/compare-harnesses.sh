#!/usr/bin/env bash
# Compare assay with Inspect (inspect-ai) and lm-evaluation-harness
# (lm-eval[api]): the same multiple-choice dataset, the same local
# OpenAI-compatible server answering at once (tools/openai-stub), the same
# concurrency. Prints wall time, start-up time, throughput, CPU per sample
# and peak RSS for each, and the ratios to assay.
#
# Builds release `assay` and `openai-stub` and the plugins, installs pinned
# versions of the Python harnesses into target/harness-venv (once), then runs
# scripts/compare_harnesses.py; arguments go to it (defaults: --samples 2000
# --concurrency 64; see --help).
#
#   scripts/compare-harnesses.sh
#   scripts/compare-harnesses.sh --samples 500 --harnesses assay,lm-eval
set -euo pipefail
cd "$(dirname "$0")/.."

INSPECT_VERSION=0.3.285
LM_EVAL_VERSION=0.4.13
# Inspect's openai-api provider uses the OpenAI client.
OPENAI_VERSION=3.54.0
VENV=target/harness-venv

die() {
    echo "compare-harnesses: error: $*" >&2
    exit 1
}

command -v python3 >/dev/null || die "python3 not found; install Python 3.10 or newer"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "python3 is $(python3 -c 'import sys; print(sys.version.split()[0])'); Inspect and lm-eval need 3.10 or newer"
command -v cargo >/dev/null || die "cargo not found; install Rust (https://rustup.rs)"

cargo build --release -p assay -p openai-stub || die "cargo build --release -p assay -p openai-stub failed"
scripts/build-plugins.sh || die "scripts/build-plugins.sh failed"

if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV" || die "could not create a virtual environment in $VENV (on Debian: apt-get install python3-venv)"
fi
# Install when any of the pinned versions is missing.
if ! "$VENV/bin/python" - "$INSPECT_VERSION" "$LM_EVAL_VERSION" "$OPENAI_VERSION" <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
wanted = dict(zip(("inspect-ai", "lm-eval", "openai"), sys.argv[1:]))
sys.exit(any(m.version(name) != version for name, version in wanted.items()))
PY
    echo "compare-harnesses: installing inspect-ai==$INSPECT_VERSION, lm-eval[api]==$LM_EVAL_VERSION and openai==$OPENAI_VERSION into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet \
        "inspect-ai==$INSPECT_VERSION" "lm-eval[api]==$LM_EVAL_VERSION" "openai==$OPENAI_VERSION" ||
        die "pip install of inspect-ai==$INSPECT_VERSION, lm-eval[api]==$LM_EVAL_VERSION and openai==$OPENAI_VERSION into $VENV failed"
fi

exec "$VENV/bin/python" scripts/compare_harnesses.py --venv "$VENV" "$@"
