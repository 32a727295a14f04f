#!/usr/bin/env python3
"""Cross-check assay's log-likelihood scoring with lm-evaluation-harness:
both score the same MMLU questions against the same local server
(`openai-stub`, whose prompt log-probabilities are deterministic), and every
prompt, every continuation's log-likelihood, every chosen answer and the
accuracies (acc, acc_norm) must be the same.

Usually started by scripts/compare-loglikelihood.sh, which builds assay, the
stub and the plugins and installs lm-eval into target/harness-venv. Runs in
that venv: the standard library, plus `transformers` to write and check the
tokenizer.

What runs, per setting (0-shot; 5-shot, the subject's dev questions as
exemplars; 0-shot with the option texts as continuations):

- lm-eval's `local-completions` model with lm-eval's own MMLU task format
  (scripts/compare/lm_eval/_mmlu_loglikelihood_template_yaml, one task per
  subject as lm-eval generates them), `--log_samples`;
- assay's `mcq` plugin in `mode: loglikelihood` with lm-eval's description
  line, few-shot `{n: 5, dataset: dev, sampler: first_n, match_field:
  subject}`.

The stub tokenizes by characters; lm-eval is given a Hugging Face tokenizer
that does the same (written here into the scratch directory: a
`tokenizers` BPE model with one token per character and no merges), so both
harnesses see the same token boundaries. Each log-probability is a hash of
the text before the token and the token, a multiple of 1/1024: two
harnesses get the same sum only from byte-identical prompts.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from compare_harnesses import Failure, harness_env, show_tail, start_stub, stop_and_clean

REPO = Path(__file__).resolve().parent.parent
SUBJECTS = ("abstract_algebra", "anatomy", "business_ethics", "formal_logic", "marketing", "world_religions")
DESCRIPTION = "The following are multiple choice questions (with answers) about {subject}.\n\n"
TEMPLATE = REPO / "scripts/compare/lm_eval/_mmlu_loglikelihood_template_yaml"


@dataclass(frozen=True)
class Setting:
    name: str
    fewshot: int
    continuations: str  # "letters" or "options"

    @property
    def key(self) -> str:
        return f"{self.continuations}-{self.fewshot}shot"


SETTINGS = (Setting("0-shot", 0, "letters"), Setting("5-shot", 5, "letters"), Setting("0-shot, options", 0, "options"))


@dataclass
class Sample:
    """One question as a harness scored it."""

    prompt: str
    logprobs: list[float]
    chosen: int
    acc: float
    acc_norm: float


@dataclass
class Comparison:
    setting: Setting
    questions: int = 0
    same_prompt: int = 0
    same_logprobs: int = 0
    same_choice: int = 0
    same_metrics: int = 0
    means: dict[str, float] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.questions > 0 and self.questions == self.same_prompt == self.same_logprobs == self.same_choice == self.same_metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/mmlu", help="MMLU CSVs: test/<subject>_test.csv, dev/<subject>_dev.csv")
    parser.add_argument("--subjects", default=",".join(SUBJECTS), help="comma-separated subjects (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, each harness (default 8)")
    parser.add_argument("--venv", type=Path, default=REPO / "target/harness-venv", help="venv with lm-eval")
    parser.add_argument("--assay", type=Path, default=REPO / "target/release/assay")
    parser.add_argument("--stub", type=Path, default=REPO / "target/release/openai-stub")
    parser.add_argument("--plugin", type=Path, default=REPO / "target/wasm32-wasip2/plugin/mcq.wasm")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one harness run may take (default 1800)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    args = parser.parse_args()
    for name in ("data", "venv", "assay", "stub", "plugin"):
        setattr(args, name, getattr(args, name).absolute())
    subjects = [s.strip() for s in args.subjects.split(",") if s.strip()]
    try:
        for path, fix in ((args.stub, "cargo build --release -p openai-stub"), (args.assay, "cargo build --release -p assay"), (args.plugin, "scripts/build-plugins.sh"), (args.venv / "bin/lm_eval", "scripts/compare-loglikelihood.sh")):
            if not path.exists():
                raise Failure(f"{path} not found; run {fix}")
        return compare(args, subjects)
    except Failure as e:
        print(f"compare-loglikelihood: error: {e}", file=sys.stderr)
        return 1


def progress(message: str) -> None:
    print(f"compare-loglikelihood: {message}", file=sys.stderr, flush=True)


def compare(args: argparse.Namespace, subjects: list[str]) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="assay-compare-ll-"))
    stub = None
    ok = False
    try:
        data = write_data(args.data, subjects, scratch / "data")
        write_tokenizer(data, scratch / "tokenizer")
        write_lm_eval_tasks(subjects, scratch)
        stub, url = start_stub(args.stub)
        started = time.perf_counter()
        lm_eval = {s.key: run_lm_eval(s, subjects, args, scratch, url) for s in SETTINGS}
        assay = run_assay(args, scratch, url)
        comparisons = [compare_setting(s, lm_eval[s.key], assay[s.key]) for s in SETTINGS]
        print_table(args, subjects, comparisons, time.perf_counter() - started)
        ok = all(c.identical for c in comparisons)
        return 0 if ok else 1
    finally:
        stop_and_clean(stub, scratch, keep=args.keep or not ok)


def write_data(source: Path, subjects: list[str], out: Path) -> dict[str, dict[str, list[dict]]]:
    """Each subject's test and dev questions as JSON lines: one file per
    subject and split for lm-eval (one task per subject, as its MMLU), and
    all subjects in one file per split for assay (`match_field: subject`)."""
    out.mkdir(parents=True)
    data: dict[str, dict[str, list[dict]]] = {}
    for split in ("test", "dev"):
        everything = []
        for subject in subjects:
            path = source / split / f"{subject}_{split}.csv"
            if not path.exists():
                raise Failure(f"{path} not found (see {source / 'README.md'}; --data names the MMLU folder)")
            with path.open(newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            records = [
                {
                    "id": f"{subject}-{split}-{i}",
                    "subject": subject,
                    "question": row["question"],
                    "choices": [row[f"choice{k}"] for k in range(4)],
                    "answer": int(row["answer"]),
                }
                for i, row in enumerate(rows)
            ]
            data.setdefault(subject, {})[split] = records
            write_jsonl(out / f"{split}-{subject}.jsonl", records)
            everything += records
        write_jsonl(out / f"{split}.jsonl", everything)
    return data


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_tokenizer(data: dict[str, dict[str, list[dict]]], out: Path) -> None:
    """A Hugging Face tokenizer that splits text into characters, as the
    stub does: a BPE model whose vocabulary is every character of the data
    and the prompt format, with no merges, decoded by joining the tokens.
    Checked: every text encodes to one token per character and decodes back."""
    from tokenizers import Tokenizer, decoders, models  # in the venv, with transformers
    from transformers import AutoTokenizer

    texts = [DESCRIPTION, "\nA. B. C. D. Answer: _ abcdefghijklmnopqrstuvwxyz"]
    for splits in data.values():
        for records in splits.values():
            texts += [r["question"] for r in records] + [c for r in records for c in r["choices"]]
    characters = sorted(set("".join(texts)))
    tokenizer = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(characters)}, merges=[]))
    tokenizer.decoder = decoders.Fuse()
    out.mkdir(parents=True)
    tokenizer.save(str(out / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False, "model_max_length": 1_000_000}
    (out / "tokenizer_config.json").write_text(json.dumps(config))
    loaded = AutoTokenizer.from_pretrained(str(out))
    for text in texts:
        ids = loaded(text, add_special_tokens=False).input_ids
        if len(ids) != len(text) or loaded.decode(ids) != text:
            raise Failure(f"the character tokenizer does not round-trip {text[:60]!r}")


def write_lm_eval_tasks(subjects: list[str], scratch: Path) -> None:
    """One lm-eval task per (continuations, subject), including the MMLU
    template, as lm-eval's own MMLU subject files do."""
    tasks = scratch / "tasks"
    tasks.mkdir()
    for continuations in ("letters", "options"):
        for subject in subjects:
            task = {
                "include": str(TEMPLATE),
                "task": task_name(continuations, subject),
                "description": DESCRIPTION.format(subject=subject.replace("_", " ")),
                "dataset_kwargs": {"data_files": {split: str(scratch / f"data/{split}-{subject}.jsonl") for split in ("test", "dev")}},
            }
            if continuations == "options":
                task["doc_to_choice"] = "{{choices}}"
            # JSON is YAML.
            (tasks / f"{task['task']}.yaml").write_text(json.dumps(task, indent=2))


def task_name(continuations: str, subject: str) -> str:
    return f"assay_mmlu_{continuations}_{subject}"


def run(cmd: list[str], label: str, cwd: Path, env: dict[str, str], log: Path, timeout: float) -> None:
    progress(f"{label}: {' '.join(cmd[:2])} ...")
    with log.open("wb") as out:
        try:
            status = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            status = None
    if status != 0:
        show_tail(log)
        raise Failure(f"{label} {'timed out' if status is None else f'exited with status {status}'}; its output is in {log}")


def run_lm_eval(setting: Setting, subjects: list[str], args: argparse.Namespace, scratch: Path, url: str) -> dict[str, Sample]:
    """lm-eval on every subject in `setting`; its samples by question id."""
    out = scratch / "lm-eval" / setting.key
    out.mkdir(parents=True)
    model_args = ",".join(
        [
            "model=m",
            f"base_url={url}/completions",
            "tokenizer_backend=huggingface",
            f"tokenizer={scratch / 'tokenizer'}",
            "tokenized_requests=False",
            f"num_concurrent={args.concurrency}",
            "max_retries=1",
            # Tokens are characters: room for the longest 5-shot prompt.
            "max_length=1000000",
        ]
    )
    cmd = [
        str(args.venv / "bin/lm_eval"),
        "--model", "local-completions",
        "--model_args", model_args,
        "--tasks", ",".join(task_name(setting.continuations, s) for s in subjects),
        "--num_fewshot", str(setting.fewshot),
        "--include_path", str(scratch / "tasks"),
        "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    run(cmd, f"lm-eval {setting.name}", scratch, harness_env("lm-eval", out), out / "output.log", args.timeout)
    samples: dict[str, Sample] = {}
    for path in glob.glob(str(out / "**/samples_*.jsonl"), recursive=True):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            arguments = row["arguments"]
            arguments = list(arguments.values()) if isinstance(arguments, dict) else arguments
            first = arguments[0]
            prompt = first["arg_0"] if isinstance(first, dict) else first[0]
            logprobs = [float(r[0]) for r in row["filtered_resps"]]
            chosen = max(range(len(logprobs)), key=lambda i: (logprobs[i], -i))
            samples[row["doc"]["id"]] = Sample(prompt, logprobs, chosen, float(row["acc"]), float(row["acc_norm"]))
    return samples


def run_assay(args: argparse.Namespace, scratch: Path, url: str) -> dict[str, dict[str, Sample]]:
    """assay on every setting in one run; samples by setting and question id."""
    out = scratch / "assay"
    out.mkdir()
    envs = []
    for setting in SETTINGS:
        env_args = {"mode": "loglikelihood", "continuations": setting.continuations, "description": DESCRIPTION}
        env = {"id": setting.key, "module": str(args.plugin), "dataset": str(scratch / "data/test.jsonl"), "capabilities": ["loglikelihood"], "env_args": env_args}
        if setting.fewshot:
            env["fewshot"] = {"n": setting.fewshot, "dataset": str(scratch / "data/dev.jsonl"), "sampler": "first_n", "match_field": "subject"}
        envs.append(env)
    model = {"model": "m", "api_base_url": url, "use_chat_template": False, "max_concurrent": args.concurrency, "adaptive_concurrency": False}
    config = {"name": "compare-loglikelihood", "output_dir": str(out / "runs"), "models": {"m": model}, "envs": envs, "jobs": [{"model": "m", "env": [e["id"] for e in envs]}]}
    # JSON is YAML.
    (out / "assay.yaml").write_text(json.dumps(config, indent=2))
    cmd = [str(args.assay), "bench", "--config", str(out / "assay.yaml"), "--quiet"]
    run(cmd, "assay", scratch, harness_env("assay", out), out / "output.log", args.timeout)
    samples: dict[str, dict[str, Sample]] = {}
    for setting in SETTINGS:
        paths = glob.glob(str(out / f"runs/*/m-{setting.key}/results.jsonl"))
        if len(paths) != 1:
            raise Failure(f"assay wrote {len(paths)} results for {setting.key}, expected 1")
        by_id = samples.setdefault(setting.key, {})
        for line in Path(paths[0]).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("error"):
                raise Failure(f"assay: {row['example_id']}: {row['error']['message']}")
            logprobs = [c["logprob"] for c in row["continuations"]]
            chosen = "ABCD".index(row["parsed_answer"])
            by_id[row["example_id"]] = Sample(row["prompt_text"], logprobs, chosen, row["metrics"]["acc"], row["metrics"]["acc_norm"])
    return samples


def compare_setting(setting: Setting, lm_eval: dict[str, Sample], assay: dict[str, Sample]) -> Comparison:
    c = Comparison(setting)
    if set(lm_eval) != set(assay):
        c.examples.append(f"questions differ: {len(set(lm_eval) - set(assay))} only in lm-eval, {len(set(assay) - set(lm_eval))} only in assay")
    ids = sorted(set(lm_eval) & set(assay))
    c.questions = len(ids)
    for qid in ids:
        lm, us = lm_eval[qid], assay[qid]
        checks = (
            ("prompt", lm.prompt == us.prompt, f"{first_difference(lm.prompt, us.prompt)}"),
            ("log-likelihoods", lm.logprobs == us.logprobs, f"lm-eval {lm.logprobs}, assay {us.logprobs}"),
            ("choice", lm.chosen == us.chosen, f"lm-eval {'ABCD'[lm.chosen]}, assay {'ABCD'[us.chosen]}"),
            ("acc, acc_norm", (lm.acc, lm.acc_norm) == (us.acc, us.acc_norm), f"lm-eval {lm.acc:g}, {lm.acc_norm:g}; assay {us.acc:g}, {us.acc_norm:g}"),
        )
        for (name, same, detail), attribute in zip(checks, ("same_prompt", "same_logprobs", "same_choice", "same_metrics")):
            setattr(c, attribute, getattr(c, attribute) + same)
            if not same and len(c.examples) < 6:
                c.examples.append(f"{qid}: {name} differ: {detail}")
    for harness, samples in (("lm-eval", lm_eval), ("assay", assay)):
        for metric in ("acc", "acc_norm"):
            values = [getattr(samples[q], metric) for q in ids]
            c.means[f"{metric} {harness}"] = sum(values) / max(len(values), 1)
    return c


def first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at character {at}: lm-eval {a[max(0, at - 20):at + 20]!r}, assay {b[max(0, at - 20):at + 20]!r}"


def lm_eval_version(venv: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('lm-eval'), m.version('transformers'))"
    out = subprocess.run([str(venv / "bin/python"), "-c", code], capture_output=True, text=True, check=False).stdout.split()
    return f"lm-eval {out[0]} (transformers {out[1]})" if len(out) == 2 else "lm-eval (version unknown)"


def print_table(args: argparse.Namespace, subjects: list[str], comparisons: list[Comparison], seconds: float) -> None:
    print(f"\nMMLU, {len(subjects)} subjects ({', '.join(subjects)}), against openai-stub; {lm_eval_version(args.venv)}, `local-completions`\n")
    print("| setting | questions | same prompt | same log-likelihoods | same choice | same acc, acc_norm | acc lm-eval | acc assay | acc_norm lm-eval | acc_norm assay |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in comparisons:
        m = c.means
        print(
            f"| {c.setting.name} | {c.questions} | {c.same_prompt} | {c.same_logprobs} | {c.same_choice} | {c.same_metrics} "
            f"| {m['acc lm-eval']:.4f} | {m['acc assay']:.4f} | {m['acc_norm lm-eval']:.4f} | {m['acc_norm assay']:.4f} |"
        )
    for c in comparisons:
        for example in c.examples:
            print(f"{c.setting.name}: {example}")
    verdict = "identical" if all(c.identical for c in comparisons) else "DIFFERENT"
    print(f"\n{verdict}: every prompt, log-likelihood, choice and metric per question ({seconds:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
