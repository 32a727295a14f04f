# The Python harnesses assay is compared with, pinned, in one virtual
# environment under target/, and the build the comparisons run. Sourced by
# scripts/compare-harnesses.sh and scripts/compare-loglikelihood.sh (run
# from the repository root).
#
#   source scripts/harness-venv.sh
#   harness_build || exit 1
#   harness_venv "lm-eval[api]==$LM_EVAL_VERSION" || exit 1

INSPECT_VERSION=0.3.285
LM_EVAL_VERSION=0.4.13
# Inspect's openai-api provider uses the OpenAI client.
OPENAI_VERSION=3.54.0
# lm-eval's Hugging Face tokenizer backend (no torch needed).
TRANSFORMERS_VERSION=5.25.0
HARNESS_VENV=target/harness-venv

# harness_venv NAME==VERSION...: create $HARNESS_VENV once, and pip-install
# the given pins when any of them is missing or at another version. Says
# why on stderr and returns 1 when it cannot.
harness_venv() {
    if ! command -v python3 >/dev/null; then
        echo "error: python3 not found; install Python 3.10 or newer" >&2
        return 1
    fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        echo "error: python3 is $(python3 -c 'import sys; print(sys.version.split()[0])'); the harnesses need 3.10 or newer" >&2
        return 1
    fi
    if [[ ! -x $HARNESS_VENV/bin/python ]] && ! python3 -m venv "$HARNESS_VENV"; then
        echo "error: could not create a virtual environment in $HARNESS_VENV (on Debian: apt-get install python3-venv)" >&2
        return 1
    fi
    if "$HARNESS_VENV/bin/python" - "$@" <<'PY' 2>/dev/null; then
import importlib.metadata as m, re, sys
pins = [re.fullmatch(r"([^\[=]+)(\[.*\])?==(.+)", spec).group(1, 3) for spec in sys.argv[1:]]
sys.exit(any(m.version(name) != version for name, version in pins))
PY
        return 0
    fi
    echo "installing $* into $HARNESS_VENV" >&2
    if ! "$HARNESS_VENV/bin/python" -m pip install --quiet "$@"; then
        echo "error: pip install of $* into $HARNESS_VENV failed" >&2
        return 1
    fi
}

# harness_build: release `assay` and `openai-stub`, and the plugins. Says
# why on stderr and returns 1 when it cannot.
harness_build() {
    if ! command -v cargo >/dev/null; then
        echo "error: cargo not found; install Rust (https://rustup.rs)" >&2
        return 1
    fi
    if ! cargo build --release -p assay -p openai-stub; then
        echo "error: cargo build --release -p assay -p openai-stub failed" >&2
        return 1
    fi
    if ! scripts/build-plugins.sh; then
        echo "error: scripts/build-plugins.sh failed" >&2
        return 1
    fi
}
