"""Native tests of the PubMedQA environment, through the host's JSON path."""

import json
import pathlib

import pytest

from assay_env import BadArgs, BadRecord, ParseStatus
from assay_env.testing import Harness
from pubmedqa import PubMedQa, extract

SAMPLE = [json.loads(line) for line in (pathlib.Path(__file__).parent.parent / "data/sample.jsonl").read_text().splitlines()]


def env(**args):
    return Harness(PubMedQa, args)


def test_the_reference_scores_full_reward_on_every_sample_record():
    for record in SAMPLE:
        assert env().oracle(record).reward == 1.0, record["pubid"]


def test_the_prompt_shows_labelled_sections_then_the_question():
    text = env(system_prompt="You are a clinician.").prepare(SAMPLE[0]).text()
    assert text.startswith("You are a clinician.\nBACKGROUND: Aspirin is widely used"), text
    assert "\n\nRESULTS: In a randomized trial" in text
    assert "Question: Does daily low-dose aspirin" in text
    assert "BACKGROUND" not in env(section_labels=False).prepare(SAMPLE[0]).text()


def test_a_flat_context_and_an_answer_field_are_accepted():
    prepared = env().prepare({"question": "Q?", "context": "Some text.", "answer": "Maybe"})
    assert prepared.text().startswith("Some text.\n\nQuestion: Q?") and prepared.state == '"maybe"'


@pytest.mark.parametrize(
    "reply, found",
    [
        ("The data show no effect.\n\nAnswer: no", ["no"]),
        ("**Answer:** Yes.", ["yes"]),
        ("answer: yes... on reflection, Answer: maybe", ["maybe"]),
        ("Answer: yes or maybe", ["yes", "maybe"]),
        ("No.", ["no"]),
        ("Answer: probably", None),
        ("I cannot say.", None),
    ],
)
def test_answers_are_read_from_the_last_answer_line(reply, found):
    assert extract(reply) == found


def test_two_answers_are_hedged_and_not_credited():
    prepared = env().prepare(SAMPLE[1])  # gold: yes
    score = env().grade(prepared, "Answer: yes or maybe")
    assert (score.reward, score.parse_status, score.parsed_answer) == (0.0, ParseStatus.HEDGED, "yes or maybe")
    assert env().grade(prepared, "").parse_status == ParseStatus.NO_ANSWER


def test_a_custom_template_is_checked_and_filled_without_touching_other_braces():
    args = {"prompt_template": "Q: {question}\\n{context}\\nReply as JSON {\"answer\": ...}; Answer: yes|no|maybe"}
    assert 'JSON {"answer": ...}' in env(**args).prepare(SAMPLE[3]).text()
    with pytest.raises(BadArgs, match=r"unknown placeholder \{questoin\}"):
        env(prompt_template="{questoin}")


def test_bad_records_name_the_field():
    with pytest.raises(BadRecord, match="field `final_decision`"):
        env().prepare({"question": "Q?", "final_decision": "perhaps"})
    with pytest.raises(BadRecord, match="missing field `question`"):
        env().prepare({"final_decision": "yes"})
