#!/usr/bin/env bash
# Cross-check assay's log-likelihood scoring with lm-evaluation-harness
# (lm-eval[api], `local-completions`): the same MMLU questions (a few
# subjects of ../shared/data/mmlu), 0-shot, 5-shot and with option texts as
# continuations, against the same local server (tools/openai-stub, which
# echoes prompts with deterministic log-probabilities). Every prompt,
# log-likelihood, chosen answer and metric per question must be identical;
# prints a table and exits 1 otherwise.
#
# Builds release `assay` and `openai-stub` and the plugins, installs the
# pinned lm-eval (and transformers, for the tokenizer lm-eval is given) into
# target/harness-venv (once; shared with scripts/compare-harnesses.sh), then
# runs scripts/compare_loglikelihood.py; arguments go to it (see --help).
#
#   scripts/compare-loglikelihood.sh
#   scripts/compare-loglikelihood.sh --subjects anatomy,marketing --keep
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/harness-venv.sh

die() {
    echo "compare-loglikelihood: error: $*" >&2
    exit 1
}

harness_build || die "could not build assay, openai-stub and the plugins"

harness_venv "lm-eval[api]==$LM_EVAL_VERSION" "transformers==$TRANSFORMERS_VERSION" || die "could not set up $HARNESS_VENV"

exec "$HARNESS_VENV/bin/python" scripts/compare_loglikelihood.py --venv "$HARNESS_VENV" "$@"
