#!/usr/bin/env python3
"""Run assay, Inspect and lm-evaluation-harness on the same multiple-choice
dataset against the same local OpenAI-compatible server (`openai-stub`,
answering at once) at the same concurrency, and print what each cost.

Usually started by scripts/compare-harnesses.sh, which builds assay, the stub
and the plugins and installs the Python harnesses into target/harness-venv.
Standard library only.

Each harness runs as a child process, as a user would start it from a shell.
Measured per harness:

- wall time, from launch to exit;
- start-up: from launch to the first request the stub received;
- CPU: user + system time of the harness and its descendants
  (`os.wait4` rusage), per sample;
- peak RSS: that rusage's `ru_maxrss` (the largest process of the tree);
- the requests the stub served (must equal the number of samples) and the
  accuracy the harness reported (must be 100%); otherwise the run is invalid
  and this script fails.

Each harness first runs once, untimed, on the same dataset with the same
settings, so the timed run is a user's second run: assay's compiled-plugin
cache, Python's byte-code caches and the Hugging Face datasets cache exist.
Every cache, log and result goes to a scratch directory outside the
repository.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HARNESSES = ("assay", "inspect", "lm-eval")
LABELS = {"assay": "assay", "inspect": "Inspect", "lm-eval": "lm-eval"}


class Failure(Exception):
    """A one-line reason the comparison cannot go on."""


@dataclass
class Measured:
    wall: float
    startup: float
    cpu: float
    peak_rss_kib: int
    requests: int
    accuracy: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000, help="questions in the dataset (default 2000)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    parser.add_argument("--harnesses", default=",".join(HARNESSES), help="comma-separated subset of " + ",".join(HARNESSES))
    parser.add_argument("--venv", type=Path, default=REPO / "target/harness-venv", help="venv with inspect-ai and lm-eval")
    parser.add_argument("--assay", type=Path, default=REPO / "target/release/assay")
    parser.add_argument("--stub", type=Path, default=REPO / "target/release/openai-stub")
    parser.add_argument("--plugin", type=Path, default=REPO / "target/wasm32-wasip2/plugin/mcq.wasm")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed first run of each harness")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one harness run may take (default 1800)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    args = parser.parse_args()
    harnesses = [h.strip() for h in args.harnesses.split(",") if h.strip()]
    # Harnesses run in a scratch directory: make every path absolute.
    for name in ("venv", "assay", "stub", "plugin"):
        setattr(args, name, getattr(args, name).absolute())
    try:
        unknown = [h for h in harnesses if h not in HARNESSES]
        if unknown or not harnesses:
            raise Failure(f"unknown harness {', '.join(unknown) or '(none)'}: choose from {', '.join(HARNESSES)}")
        if args.samples < 1 or args.concurrency < 1:
            raise Failure("--samples and --concurrency must be at least 1")
        return compare(args, harnesses)
    except Failure as e:
        print(f"compare-harnesses: error: {e}", file=sys.stderr)
        return 1


def compare(args: argparse.Namespace, harnesses: list[str]) -> int:
    require(args.stub, "the stub server is missing: run `cargo build --release -p openai-stub`")
    if "assay" in harnesses:
        require(args.assay, "assay is missing: run `cargo build --release -p assay`")
        require(args.plugin, "the mcq plugin is missing: run scripts/build-plugins.sh")
    for harness, exe in (("inspect", "inspect"), ("lm-eval", "lm_eval")):
        if harness in harnesses:
            require(args.venv / "bin" / exe, f"{exe} is not in {args.venv}: run scripts/compare-harnesses.sh")

    scratch = Path(tempfile.mkdtemp(prefix="assay-compare-"))
    ok = False
    stub = None
    try:
        questions = scratch / "questions.jsonl"
        write_dataset(questions, args.samples)
        stub, url = start_stub(args.stub)
        args.load_before = os.getloadavg()[0]
        versions = {h: version(h, args) for h in harnesses}
        results: dict[str, Measured] = {}
        for harness in harnesses:
            state = scratch / harness
            state.mkdir()
            if not args.no_warmup:
                progress(f"{LABELS[harness]}: untimed first run ({args.samples} samples)")
                run_harness(harness, args, scratch, state / "warmup", url)
            progress(f"{LABELS[harness]}: timed run ({args.samples} samples)")
            results[harness] = run_harness(harness, args, scratch, state / "timed", url)
        print_tables(args, harnesses, versions, results)
        ok = True
        return 0
    finally:
        stop_and_clean(stub, scratch, keep=args.keep or not ok)


def stop_and_clean(stub: subprocess.Popen | None, scratch: Path, keep: bool) -> None:
    """Stop the stub server; remove the scratch directory, or keep it
    (--keep, or a failed run) and print where it is."""
    if stub is not None:
        stub.terminate()
        stub.wait()
    if keep:
        print(f"scratch directory kept: {scratch}", file=sys.stderr)
    else:
        shutil.rmtree(scratch, ignore_errors=True)


def require(path: Path, message: str) -> None:
    if not path.exists():
        raise Failure(f"{path} not found; {message}")


def progress(message: str) -> None:
    print(f"compare-harnesses: {message}", file=sys.stderr, flush=True)


def write_dataset(path: Path, n: int) -> None:
    """N questions, 4 options, gold A; the same file serves all three."""
    with path.open("w") as out:
        for i in range(n):
            record = {
                "id": f"q{i}",
                "question": f"Which option is the first one? (question {i})",
                "choices": ["alpha", "beta", "gamma", "delta"],
                "answer": "A",
            }
            out.write(json.dumps(record) + "\n")


def start_stub(exe: Path) -> tuple[subprocess.Popen, str]:
    stub = subprocess.Popen([str(exe), "--latency-ms", "0"], stdout=subprocess.PIPE, text=True)
    line = stub.stdout.readline().strip() if stub.stdout else ""
    if not line.startswith("http://"):
        stub.kill()
        stub.wait()
        raise Failure(f"{exe} did not print its URL (got {line!r})")
    return stub, line


def stub_call(url: str, path: str, method: str = "GET") -> dict:
    base = url.removesuffix("/v1")
    request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


def version(harness: str, args: argparse.Namespace) -> str:
    if harness == "assay":
        out = subprocess.run([str(args.assay), "--version"], capture_output=True, text=True, check=False).stdout
        return out.split()[-1] if out.split() else "?"
    package = {"inspect": "inspect-ai", "lm-eval": "lm-eval"}[harness]
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    out = subprocess.run([str(args.venv / "bin/python"), "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise Failure(f"{package} is not installed in {args.venv}: run scripts/compare-harnesses.sh")
    return out.stdout.strip()


def harness_env(harness: str, state: Path) -> dict[str, str]:
    """The user's environment, with every cache and log under `state`."""
    env = dict(os.environ)
    # Let Python write byte-code caches as it would on a user's machine.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for var, sub in (("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "xdg-state")):
        env[var] = str(state / sub)
    if harness == "assay":
        env["ASSAY_CACHE_DIR"] = str(state / "cache/assay")
    else:
        env["HF_HOME"] = str(state / "hf")
        env["HF_DATASETS_CACHE"] = str(state / "hf/datasets")
        env["HF_HUB_OFFLINE"] = "1"
        env["HF_DATASETS_OFFLINE"] = "1"
        env["TRANSFORMERS_OFFLINE"] = "1"
        env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    return env


def run_harness(harness: str, args: argparse.Namespace, scratch: Path, run: Path, url: str) -> Measured:
    """One run of `harness` on scratch/questions.jsonl; fails unless it is valid."""
    run.mkdir(parents=True)
    state = run.parent
    env = harness_env(harness, state)
    n, c = args.samples, args.concurrency
    if harness == "assay":
        config = run / "assay.yaml"
        config.write_text(
            "name: compare\n"
            f"output_dir: {run / 'runs'}\n"
            "models:\n"
            f"  m: {{model: m, api_base_url: '{url}', max_concurrent: {c}, adaptive_concurrency: false}}\n"
            "envs:\n"
            f"  - {{id: quiz, module: {args.plugin}, dataset: {scratch / 'questions.jsonl'}}}\n"
            "jobs:\n"
            "  - {model: m, env: quiz}\n"
        )
        cmd = [str(args.assay), "bench", "--config", str(config), "--quiet"]
    elif harness == "inspect":
        # Copied, not run in place, so Python caches its byte code here and
        # not in the repository.
        shutil.copy(REPO / "scripts/compare/inspect_task.py", scratch / "inspect_task.py")
        env["STUB_API_KEY"] = "stub"
        env["STUB_BASE_URL"] = url
        cmd = [
            str(args.venv / "bin/inspect"), "eval", "inspect_task.py",
            "-T", f"dataset={scratch / 'questions.jsonl'}",
            "--model", "openai-api/stub/m",
            "--max-connections", str(c),
            "--display", "none",
            "--log-dir", str(run / "logs"),
        ]  # fmt: skip
    else:
        cmd = [
            str(args.venv / "bin/lm_eval"),
            "--model", "local-chat-completions",
            "--model_args", f"model=m,base_url={url}/chat/completions,num_concurrent={c},tokenized_requests=False,max_retries=1",
            "--apply_chat_template",
            "--tasks", "compare_mcq",
            "--include_path", str(REPO / "scripts/compare/lm_eval"),
            "--output_path", str(run / "out"),
        ]  # fmt: skip

    stub_call(url, "/stats/reset", "POST")
    log = run / "output.log"
    with log.open("wb") as out:
        # The task YAML names its data file relative to the working directory.
        launched = time.time()
        started = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        timer = threading.Timer(args.timeout, kill_group, [child.pid])
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
    label = LABELS[harness]
    if child.returncode != 0:
        show_tail(log)
        why = "timed out" if wall >= args.timeout else f"exited with status {child.returncode}"
        raise Failure(f"{label} {why}; its output is in {log}")
    stats = stub_call(url, "/stats")
    if stats["requests"] != n:
        show_tail(log)
        raise Failure(f"{label}: the stub served {stats['requests']} requests for {n} samples; the run is invalid")
    accuracy = reported_accuracy(harness, args, run, n)
    if accuracy != 1.0:
        show_tail(log)
        raise Failure(f"{label} reported accuracy {accuracy:.4f}, not 1.0; the run is invalid (output in {log})")
    return Measured(
        wall=wall,
        startup=stats["first_request_unix_ms"] / 1000 - launched,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_kib=usage.ru_maxrss,
        requests=stats["requests"],
        accuracy=accuracy,
    )


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def show_tail(log: Path, lines: int = 20) -> None:
    text = log.read_text(errors="replace").splitlines()[-lines:]
    for line in text:
        print(f"  | {line}", file=sys.stderr)


def reported_accuracy(harness: str, args: argparse.Namespace, run: Path, n: int) -> float:
    """The accuracy the harness itself wrote, after checking it scored all `n` samples."""
    label = LABELS[harness]
    if harness == "assay":
        summaries = glob.glob(str(run / "runs/*/*/summary.json"))
        if len(summaries) != 1:
            raise Failure(f"assay wrote {len(summaries)} summary.json files under {run / 'runs'}, expected 1")
        summary = json.loads(Path(summaries[0]).read_text())
        if summary.get("n") != n or summary.get("n_errors"):
            raise Failure(f"assay scored {summary.get('n')} samples with {summary.get('n_errors')} errors, expected {n} and 0")
        return float(summary["mean_reward"])
    if harness == "inspect":
        logs = glob.glob(str(run / "logs/*.eval"))
        if len(logs) != 1:
            raise Failure(f"Inspect wrote {len(logs)} logs under {run / 'logs'}, expected 1")
        # The .eval log is zstd-compressed: read its header with Inspect itself.
        dump = subprocess.run(
            [str(args.venv / "bin/inspect"), "log", "dump", "--header-only", logs[0]],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if dump.returncode != 0:
            raise Failure(f"`inspect log dump` failed on {logs[0]}: {dump.stderr.strip().splitlines()[-1:]}")
        header = json.loads(dump.stdout)
        results = header.get("results") or {}
        if header.get("status") != "success" or results.get("completed_samples") != n:
            raise Failure(f"Inspect log status {header.get('status')}, {results.get('completed_samples')} of {n} samples")
        return float(results["scores"][0]["metrics"]["accuracy"]["value"])
    files = glob.glob(str(run / "out/**/results_*.json"), recursive=True)
    if len(files) != 1:
        raise Failure(f"{label} wrote {len(files)} results files under {run / 'out'}, expected 1")
    report = json.loads(Path(files[0]).read_text())
    effective = report.get("n-samples", {}).get("compare_mcq", {}).get("effective")
    if effective != n:
        raise Failure(f"lm-eval evaluated {effective} samples, expected {n}")
    return float(report["results"]["compare_mcq"]["exact_match,answer"])


def print_tables(args: argparse.Namespace, harnesses: list[str], versions: dict[str, str], results: dict[str, Measured]) -> None:
    n = args.samples
    warm = "after one untimed run of each (warm caches)" if not args.no_warmup else "first run (no warm-up)"
    print(f"\n{n} samples, concurrency {args.concurrency}, instant local server, {os.cpu_count()} cores; {warm}")
    print(f"(1-minute load average {args.load_before:.2f} before the first run: other work on the machine skews the numbers)\n")
    print("| harness | version | wall s | start-up s | samples/s after start-up | samples/s overall | CPU ms/sample | peak RSS MiB | accuracy |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for h in harnesses:
        m = results[h]
        print(
            f"| {LABELS[h]} | {versions[h]} | {m.wall:.3f} | {m.startup:.3f} | {n / (m.wall - m.startup):,.0f} "
            f"| {n / m.wall:,.0f} | {m.cpu / n * 1e3:.3f} | {m.peak_rss_kib / 1024:.0f} | {m.accuracy:.0%} |"
        )
    if "assay" not in results or len(results) < 2:
        return
    a = results["assay"]

    def ratio(x: float, y: float) -> str:
        return f"{x / y:,.1f}×" if y > 0 else "n/a"

    print("\nRatios to assay (how many times slower, or how much more):\n")
    print("| harness | wall | start-up | samples/s after start-up | samples/s overall | CPU per sample | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for h in harnesses:
        if h == "assay":
            continue
        m = results[h]
        print(
            f"| {LABELS[h]} / assay | {ratio(m.wall, a.wall)} slower | {ratio(m.startup, a.startup)} slower "
            f"| {ratio(n / (a.wall - a.startup), n / (m.wall - m.startup))} slower | {ratio(m.wall, a.wall)} slower "
            f"| {ratio(m.cpu, a.cpu)} more | {ratio(m.peak_rss_kib, a.peak_rss_kib)} more |"
        )
    print(
        "\nCPU is user + system time of the harness process and its descendants; peak RSS is the largest of"
        "\nthem (ru_maxrss). Start-up is launch to the first request the server saw. The server ran in a"
        "\nseparate process; its CPU is not counted."
    )


if __name__ == "__main__":
    sys.exit(main())
