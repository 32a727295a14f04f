"""Native tests: `Harness` drives the environment through the same JSON
decoding and state round-trips as the host. Run them with `python3 -m pytest`."""

import json
import pathlib

import pytest

from assay_env import BadRecord, ParseStatus
from assay_env.testing import Harness
from {{module}} import NumericAnswer, extract

SAMPLE = [json.loads(line) for line in (pathlib.Path(__file__).parent.parent / "data/sample.jsonl").read_text().splitlines()]


def env():
    return Harness(NumericAnswer)


def test_the_reference_scores_full_reward_on_every_sample_record():
    for record in SAMPLE:
        assert env().oracle(record, 0).reward == 1.0, record


def test_answers_are_compared_as_numbers():
    prepared = env().prepare(SAMPLE[2])  # gold: "1,800"
    for reply, reward in [("#### 1800", 1.0), ("The answer is $1,800.00.", 1.0), ("#### 1,080", 0.0)]:
        score = env().grade(prepared, reply)
        assert (score.reward, score.parse_status) == (reward, ParseStatus.OK), reply


def test_replies_without_a_number_are_no_answer():
    prepared = env().prepare(SAMPLE[0])
    for reply in ["", "   ", "I don't know."]:
        score = env().grade(prepared, reply)
        assert (score.reward, score.parse_status) == (0.0, ParseStatus.NO_ANSWER), reply


def test_the_marker_wins_over_other_numbers():
    assert extract("12 * 14 = 168, 168 - 9 = 159.\n#### 159") == "159"
    assert extract("So the answer is -7 degrees, 11 below 4.") == "-7"
    assert extract("3 / 12 = 0.25") == "0.25"


def test_a_record_without_a_numeric_answer_is_rejected():
    with pytest.raises(BadRecord, match="field `answer`"):
        env().prepare({"question": "Q?", "answer": "many"})
