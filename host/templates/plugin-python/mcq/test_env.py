"""Native tests: `Harness` drives the environment through the same JSON
decoding and state round-trips as the host. Run them with `python3 -m pytest`."""

import json
import pathlib

from assay_env import ParseStatus
from assay_env.testing import Harness
from {{module}} import MultipleChoice, extract

SAMPLE = [json.loads(line) for line in (pathlib.Path(__file__).parent.parent / "data/sample.jsonl").read_text().splitlines()]


def env(shuffle):
    return Harness(MultipleChoice, {"shuffle": shuffle})


def test_the_reference_scores_full_reward_on_every_sample_record():
    for record in SAMPLE:
        for shuffle, seed in [(False, 0), (True, 1), (True, 2), (True, 3)]:
            assert env(shuffle).oracle(record, seed).reward == 1.0, (seed, record)


def test_wrong_letters_score_zero_and_empty_replies_are_no_answer():
    prepared = env(False).prepare(SAMPLE[0])  # gold: B
    for reply in ["Answer: C", "I'd say (A).", "D"]:
        score = env(False).grade(prepared, reply)
        assert (score.reward, score.parse_status) == (0.0, ParseStatus.OK), reply
    for reply in ["", "  \n", "Answer: E", "I cannot tell."]:
        assert env(False).grade(prepared, reply).parse_status == ParseStatus.NO_ANSWER, reply


def test_letters_are_read_from_common_reply_formats():
    for reply in ["**Answer:** B", "answer: (B)", "First (A)... no: (B)", "B.", "Answer: A, or rather Answer: B"]:
        assert extract(reply, 4) == "B", reply


def test_the_same_seed_gives_the_same_prompt():
    def prompt(seed):
        return env(True).prepare(SAMPLE[3], seed).text()

    assert prompt(7) == prompt(7)
    assert any(prompt(seed) != prompt(7) for seed in range(10)), "seeds change the order"


def test_after_a_shuffle_the_reference_letter_points_at_the_gold_text():
    for record in SAMPLE:
        gold_text = record["choices"][record["answer"]]
        for seed in range(10):
            prepared = env(True).prepare(record, seed)
            letter = env(True).reference(prepared).removeprefix("Answer: ")
            assert f"\n{letter}. {gold_text}\n" in prepared.text(), (seed, prepared.text())
