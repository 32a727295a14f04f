#!/usr/bin/env bash
# Proof on a real Slurm: a config split into 4 shards as a job array, one
# shard preempted mid-run and requeued, and the merged run compared with a
# run of the same config in one process, sample for sample.
#
# What it does (as root, on Debian/Ubuntu; it installs what it needs):
#   1. installs slurm-wlm and munge from the distribution's packages;
#   2. starts a one-node cluster on localhost (munged, slurmctld, slurmd);
#   3. starts tools/openai-stub (every reply after 50 ms) and runs the
#      config in one process (`assay bench`), the reference;
#   4. submits the same config with `assay slurm CONFIG --shards 4 --submit`;
#   5. once shard 1 has recorded samples, preempts it with
#      `scancel --signal=TERM --full`; its batch script requeues it, and the
#      requeued task resumes the shard;
#   6. checks that the merged run equals the reference: same sample ids,
#      rewards and parsed answers, no duplicates, the same summaries, and
#      that the shards asked the server for each sample exactly once.
# It stops the daemons it started (by pid) and leaves its files in
# $PROOF_DIR (default /tmp/assay-slurm-proof).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PROOF_DIR=${PROOF_DIR:-/tmp/assay-slurm-proof}
STATE=$PROOF_DIR/slurm
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
say() { printf '\n== %s\n' "$*"; }
wait_for() { # wait_for SECONDS CONDITION...
    local seconds=$1; shift
    for _ in $(seq $((seconds * 10))); do eval "$@" && return 0; sleep 0.1; done
    echo "timed out after ${seconds} s waiting for: $*" >&2; return 1
}

[ "$(id -u)" -eq 0 ] || { echo "error: run as root (it installs Slurm and starts its daemons)" >&2; exit 2; }

say "Building assay and openai-stub"
cargo build --quiet -p assay -p openai-stub
ASSAY=$CARGO_TARGET_DIR/debug/assay
[ -f target/wasm32-wasip2/plugin/mcq.wasm ] || scripts/build-plugins.sh

say "Installing slurm-wlm and munge"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
slurmctld -V

STUB_PID=
stop_all() {
    scancel --quiet --user=root 2>/dev/null || true
    for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" /run/munge/munged.pid; do
        [ -s "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    done
    [ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null
    return 0
}
trap stop_all EXIT

say "Starting a one-node cluster (munged, slurmctld, slurmd on localhost)"
rm -rf "$PROOF_DIR"; mkdir -p "$STATE"/{ctld,d,log}
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key --force
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
[ -s /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null || runuser -u munge -- /usr/sbin/munged
wait_for 5 'munge -n </dev/null | unmunge >/dev/null 2>&1'
HARDWARE=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=proof
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued task may start again cred_expire + 1 s later (default 121 s).
AuthInfo=cred_expire=5
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
KillWait=30
JobRequeue=1
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1
NodeName=localhost NodeAddr=127.0.0.1 $HARDWARE State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld
slurmd -N localhost
wait_for 30 "sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)$'"
sinfo

say "Starting openai-stub (every reply after 50 ms)"
mkfifo "$PROOF_DIR/stub.url"
"$CARGO_TARGET_DIR/debug/openai-stub" --latency-ms 50 > "$PROOF_DIR/stub.url" &
STUB_PID=$!
read -r URL < "$PROOF_DIR/stub.url"
echo "$URL"

WORK=$PROOF_DIR/work
mkdir -p "$WORK"
cd "$WORK"
python3 - <<'PY'
import json
with open("questions.jsonl", "w") as out:
    for i in range(200):
        row = {"id": f"q{i}", "question": f"Question {i}: which is it?", "choices": ["w", "x", "y", "z"],
               "answer": "ABCD"[(i * 7) % 4]}
        out.write(json.dumps(row) + "\n")
PY
cat > sweep.yaml <<YAML
name: proof
models:
  stub: {model: m, api_base_url: $URL, max_concurrent: 2}
envs:
  - {id: plain, module: $REPO/target/wasm32-wasip2/plugin/mcq.wasm, dataset: questions.jsonl, rollouts_per_example: 2}
  - id: shuffled
    module: $REPO/target/wasm32-wasip2/plugin/mcq.wasm
    dataset: questions.jsonl
    rollouts_per_example: 2
    env_args: {shuffle_answers: true}
jobs:
  - {model: stub, env: [plain, shuffled]}
  - {model: oracle, env: [plain]}
YAML

say "Reference: the whole config in one process"
"$ASSAY" bench --config sweep.yaml --run-id single -q

STATS=${URL%/v1}/stats
python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$STATS/reset', method='POST'))"

say "The same config as a Slurm job array of 4 shards"
"$ASSAY" slurm sweep.yaml --shards 4 --run-id sharded --submit | tee submit.out
JOB=$(sed -n 's/^Submitted job array \([0-9]*\).*/\1/p' submit.out)
RUN=$WORK/runs/raw/sharded
wait_for 60 "[ \$(cat $RUN/stub-plain/results.shard-1-of-4.jsonl 2>/dev/null | wc -l) -ge 40 ]"
squeue -j "$JOB"
say "Preempting shard 1 mid-run: scancel --signal=TERM --full ${JOB}_1"
# scancel delivers the signal at once; the task then requeues itself while
# scancel, told the job is "in transitional state", retries for about ten
# seconds and then fails ("already completing"). Its retries could signal
# the requeued task again, so it gets 3 s.
timeout 3 scancel --signal=TERM --full "${JOB}_1" || echo "(scancel stopped: $?)"
wait_for 60 "grep -q 'requeueing it' $RUN/logs/slurm-${JOB}_1.out"
squeue -j "$JOB"
wait_for 300 "[ -z \"\$(squeue -h -j $JOB)\" ]"
say "Shard 1's log (both runs of the task)"
grep -E '^(Starting|Resuming|Terminated|Stopped|assay slurm|Shard|Run )' "$RUN/logs/slurm-${JOB}_1.out"
scontrol show job "${JOB}_1" | grep -oE 'JobState=[A-Z]+|Restarts=[0-9]+|ExitCode=[0-9:]+' | tr '\n' ' '; echo

say "The merged run"
"$ASSAY" summarize sharded

say "Comparing the merged run with the reference, sample for sample"
"$ASSAY" summarize single --json > single.json
"$ASSAY" summarize sharded --json > sharded.json
python3 - "$WORK/runs/raw" "$STATS" <<'PY'
import json, pathlib, sys, urllib.request
runs = pathlib.Path(sys.argv[1])
requests = json.load(urllib.request.urlopen(sys.argv[2]))["requests"]
def samples(job_dir):
    seen = {}
    for path in sorted(job_dir.glob("results*.jsonl")):
        for line in path.read_text().splitlines():
            r = json.loads(line)
            key = (r["example_id"], r["rollout"])
            assert key not in seen, f"{job_dir.name}: {key} recorded twice"
            seen[key] = (r["reward"], r["parsed_answer"], r["seed"])
    return seen
def summaries(file):
    out = {}
    for job in json.load(open(file))["jobs"]:
        summary = dict(job["summary"]); summary.pop("duration_secs")
        out[job["job"]["job_id"]] = (job["job"]["status"], summary)
    return out
failures = 0
for job in ["stub-plain", "stub-shuffled", "oracle-plain"]:
    single, sharded = samples(runs / "single" / job), samples(runs / "sharded" / job)
    shards = [len((runs / "sharded" / job / f"results.shard-{i}-of-4.jsonl").read_text().splitlines()) for i in range(4)]
    same = single == sharded
    failures += not same
    rewards = sum(v[0] for v in single.values())
    print(f"{job:14} single {len(single):4} samples, sharded {len(sharded):4} ({' + '.join(map(str, shards))}), "
          f"reward sum {rewards:g}, identical: {'yes' if same else 'NO'}")
s1, s2 = summaries("single.json"), summaries("sharded.json")
print(f"summaries (status, n, mean, stderr, parse and error counts, tokens) identical: {'yes' if s1 == s2 else 'NO'}")
failures += s1 != s2
asked = sum(len(samples(runs / "single" / job)) for job in ["stub-plain", "stub-shuffled"])
print(f"requests the stub served to the shards: {requests} for {asked} samples (each asked once: {'yes' if requests == asked else 'NO'})")
failures += requests != asked
sys.exit(1 if failures else 0)
PY
say "Proof passed"
