#!/usr/bin/env bash
# assay against a real LiteLLM proxy: a pinned version from PyPI in a venv
# (target/litellm-venv), started on loopback with mock_response models (no
# upstream, no network) and a per-minute request limit on one of them.
# Three jobs run through it: chat, text completions (a base model with a
# prompt template) and a rate-limited job with more samples than the limit
# allows in a minute. Exact outcomes are checked: every sample scored, no
# give-ups, the limit hit and waited out rather than hammered, the proxy's
# key in no file or output. Takes about 3 minutes once the venv exists.
#
# Usage: scripts/litellm-compat.sh   (LITELLM_VERSION, LIMITED_SAMPLES, RPM_LIMIT and
# CONCURRENCY override the defaults below)
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION="${LITELLM_VERSION:-1.108.7}"
RPM_LIMIT="${RPM_LIMIT:-10}"             # requests a minute the limited model takes
LIMITED_SAMPLES="${LIMITED_SAMPLES:-25}" # samples of the rate-limited job: three minutes' worth
SAMPLES=12                               # samples of the chat and completions jobs
CONCURRENCY="${CONCURRENCY:-4}"          # max_concurrent of the limited model
VENV=target/litellm-venv

installed() { "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || true; }
if [ "$(installed)" != "$LITELLM_VERSION" ]; then
    echo "Installing litellm[proxy]==$LITELLM_VERSION into $VENV..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
fi

scripts/build-plugins.sh
# The same features as `cargo test --workspace`, so nothing is built twice.
cargo build --quiet --workspace --all-targets
ASSAY="$PWD/target/debug/assay"
MCQ="$PWD/target/wasm32-wasip2/plugin/mcq.wasm"

WORK="$(mktemp -d)"
PROXY_PID=""
cleanup() {
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh key each run, only ever in the environment of the proxy and of assay.
LITELLM_MASTER_KEY="sk-compat-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export LITELLM_MASTER_KEY
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cat >"$WORK/proxy.yaml" <<EOF
model_list:
  - model_name: mock-chat
    litellm_params: {model: openai/mock-chat, api_key: unused, mock_response: "The answer is (A)."}
  - model_name: mock-base
    litellm_params: {model: openai/mock-base, api_key: unused, mock_response: " (A)"}
  - model_name: mock-limited
    litellm_params: {model: openai/mock-limited, api_key: unused, mock_response: "The answer is (A).", rpm: $RPM_LIMIT}
router_settings:
  optional_pre_call_checks: ["enforce_model_rate_limits"]
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
EOF

echo "Starting LiteLLM $LITELLM_VERSION on 127.0.0.1:$PORT..." >&2
# The bundled model cost map, not a download.
LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/litellm" --config "$WORK/proxy.yaml" --host 127.0.0.1 --port "$PORT" \
    >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 120); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health/liveliness', timeout=1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then
        echo "error: the proxy exited; its log:" >&2; cat "$WORK/proxy.log" >&2; exit 1
    fi
    sleep 0.5
done

# Gold (A) everywhere, so every scored sample is right.
python3 - "$WORK/data.jsonl" "$LIMITED_SAMPLES" <<'EOF'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"q{i:03}", "question": f"Question {i}: which option is right?",
                            "choices": ["yes", "no", "maybe", "never"], "answer": "A"}) + "\n")
EOF

cat >"$WORK/run.yaml" <<EOF
name: litellm
models:
  chat:
    model: mock-chat
    api_base_url: http://127.0.0.1:$PORT/v1
    api_key_var: LITELLM_MASTER_KEY
  base:
    model: mock-base
    api_base_url: http://127.0.0.1:$PORT/v1
    api_key_var: LITELLM_MASTER_KEY
    use_chat_template: false
    prompt_template: {user: "Q: {content}", generation_prefix: "\nA:"}
  limited:
    model: mock-limited
    api_base_url: http://127.0.0.1:$PORT/v1
    api_key_var: LITELLM_MASTER_KEY
    max_concurrent: $CONCURRENCY
envs:
  - id: mcq
    module: $MCQ
    dataset: data.jsonl
  - id: mcq-small
    module: $MCQ
    dataset: data.jsonl
    num_examples: $SAMPLES
jobs:
  - {model: chat, env: mcq-small}
  - {model: base, env: mcq-small}
  - {model: limited, env: mcq}
EOF

echo "Running assay bench through the proxy (the limited job waits out the limit)..." >&2
started=$(date +%s)
status=0
(cd "$WORK" && "$ASSAY" bench --config run.yaml -v) >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || status=$?
took=$(( $(date +%s) - started ))
cat "$WORK/stdout.txt"
if [ "$status" -ne 0 ]; then
    echo "error: assay bench exited $status; stderr:" >&2; tail -40 "$WORK/stderr.txt" >&2; exit 1
fi

python3 - "$WORK" "$SAMPLES" "$LIMITED_SAMPLES" "$RPM_LIMIT" "$CONCURRENCY" "$took" "$LITELLM_VERSION" <<'EOF'
import glob, json, math, os, sys
work, samples, limited_samples, rpm, concurrency, took, version = sys.argv[1:]
samples, limited_samples, rpm, concurrency, took = map(int, (samples, limited_samples, rpm, concurrency, took))
run = glob.glob(os.path.join(work, "runs/raw/*"))[0]
failures, passed = [], [0]
def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if ok:
        passed[0] += 1
    else:
        failures.append(what)

for job, n in [("chat-mcq-small", samples), ("base-mcq-small", samples), ("limited-mcq", limited_samples)]:
    lines = [json.loads(l) for l in open(os.path.join(run, job, "results.jsonl"))]
    summary = json.load(open(os.path.join(run, job, "summary.json")))
    scored = sum(1 for r in lines if r["error"] is None and r["reward"] == 1.0)
    check(len(lines) == n and scored == n and summary["n_errors"] == 0,
          f"{job}: {scored}/{n} samples scored 1.0, {summary['n_errors']} errors")
    if job.startswith("base"):
        texts = [r.get("prompt_text") or "" for r in lines]
        check(all(t.startswith("Q: ") and t.endswith("\nA:") for t in texts),
              f"{job}: every line records the prompt text sent (e.g. {texts[0][:40]!r}...)")
    else:
        check(all("prompt_text" not in r for r in lines), f"{job}: chat lines carry no prompt_text")

# Every 429 the proxy sent is in the run's debug log; none ended a sample.
log = "".join(open(p).read() for p in glob.glob(os.path.join(run, "logs/*.log")))
limited = [l for l in log.splitlines() if "attempt failed: HTTP 429" in l]
check(any("llm_provider-retry-after" in l or "(retry after 60 s)" in l for l in limited),
      f"limited-mcq: the proxy's hint was read: {limited[0].split('attempt failed: ')[1][:90] if limited else 'no 429'}...")
# Each wait of the proxy's 60 s ends in a new clock minute, where at least
# `rpm` more are taken, so there are at most `minutes` rounds of 429s, each
# at most the requests in flight. (A first round that straddles a minute
# may take twice `rpm`, so the waits are at least `minutes - 2`.)
minutes = math.ceil(limited_samples / rpm)
check(0 < len(limited) <= concurrency * minutes,
      f"limited-mcq: {len(limited)} requests turned away (429): at most {concurrency} (max_concurrent) in each of "
      f"at most {minutes} minutes, no stream of retries")
waits = max(minutes - 2, 1)
check(took >= waits * 60, f"the run took {took} s: the limit was waited out, not bypassed (at least {waits} x 60 s)")

key = os.environ["LITELLM_MASTER_KEY"]
leaks = [p for p in glob.glob(os.path.join(run, "**/*"), recursive=True)
         if os.path.isfile(p) and key in open(p, errors="replace").read()]
leaks += [p for p in ("stdout.txt", "stderr.txt") if key in open(os.path.join(work, p)).read()]
check(not leaks, f"the proxy key is in no file assay wrote and no output{': ' + str(leaks) if leaks else ''}")
print(f"checked against LiteLLM {version}")
print(f"litellm-compat: {passed[0]} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
EOF
