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

source scripts/harness-venv.sh

die() {
    echo "compare-harnesses: error: $*" >&2
    exit 1
}

harness_build || die "could not build assay, openai-stub and the plugins"

harness_venv "inspect-ai==$INSPECT_VERSION" "lm-eval[api]==$LM_EVAL_VERSION" "openai==$OPENAI_VERSION" ||
    die "could not set up $HARNESS_VENV"

exec "$HARNESS_VENV/bin/python" scripts/compare_harnesses.py --venv "$HARNESS_VENV" "$@"
