"""Native tests: `Harness` drives the environment through the same JSON
decoding and state round-trips as the host. Run them with `python3 -m pytest`."""

import json
import pathlib

import pytest

from assay_env import BadArgs, BadRecord, ParseStatus
from assay_env.testing import Harness
from {{module}} import YesNoQa, extract

SAMPLE = [json.loads(line) for line in (pathlib.Path(__file__).parent.parent / "data/sample.jsonl").read_text().splitlines()]


def env(**args):
    return Harness(YesNoQa, args)


def test_the_reference_scores_full_reward_on_every_sample_record():
    for record in SAMPLE:
        assert env().oracle(record, 0).reward == 1.0, record


def test_a_wrong_answer_scores_zero():
    prepared = env().prepare(SAMPLE[0])  # gold: no
    score = env().grade(prepared, "The trial says otherwise.\nAnswer: yes")
    assert (score.reward, score.parse_status, score.parsed_answer) == (0.0, ParseStatus.OK, "yes")


def test_replies_without_an_answer_are_no_answer():
    prepared = env().prepare(SAMPLE[0])
    for reply in ["", "   ", "I am not sure.", "Answer: probably not"]:
        score = env().grade(prepared, reply)
        assert (score.reward, score.parse_status) == (0.0, ParseStatus.NO_ANSWER), reply


def test_the_last_answer_wins_and_a_bare_word_counts():
    assert extract("Answer: yes... on reflection, **Answer: No**.") == "no"
    assert extract("Maybe.") == "maybe"
    assert extract("yes and no") is None


def test_the_prompt_has_the_system_prompt_context_and_question():
    text = env(system_prompt="You are a careful clinician.").prepare(SAMPLE[0]).text()
    assert text.startswith("You are a careful clinician.\nIn a randomized trial"), text
    assert "Question: Does daily aspirin" in text
    assert text.endswith('"Answer: maybe".')


def test_bad_records_and_args_are_rejected():
    with pytest.raises(BadRecord, match="field `answer`"):
        env().prepare({"question": "Q?", "answer": "perhaps"})
    with pytest.raises(BadArgs, match="sytem_prompt"):
        env(sytem_prompt="typo")
