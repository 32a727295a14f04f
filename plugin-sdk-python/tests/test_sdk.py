"""The SDK's own behaviour, natively: decoding with field names, the
adapter's error handling, the harness, few-shot rendering and the
build-time import scan."""

import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import assay_env  # noqa: E402
from assay_env import BadArgs, BadRecord, EnvError, Environment, ParseStatus, Prompt, Rng, Score  # noqa: E402
from assay_env import _build  # noqa: E402
from assay_env.testing import Harness  # noqa: E402


@dataclass
class Args:
    shuffle: bool = False
    system_prompt: Optional[str] = None


@dataclass
class Record:
    question: str
    choices: List[str]
    answer: int


@dataclass
class State:
    gold: str
    order: List[int] = field(default_factory=list)


class Letters(Environment):
    Args = Args
    Record = Record
    State = State

    def prepare(self, record, rng):
        order = list(range(len(record.choices)))
        if self.args.shuffle:
            rng.shuffle(order)
        lines = [f"{'ABCD'[i]}. {record.choices[c]}" for i, c in enumerate(order)]
        gold = "ABCD"[order.index(record.answer)]
        return Prompt().user(record.question + "\n" + "\n".join(lines)), State(gold, order)

    def grade(self, state, completion):
        letter = completion.strip()[-1:] if completion.strip() else ""
        if letter not in "ABCD" or not letter:
            return Score.no_answer()
        return Score.correct_if(letter == state.gold).answer(letter).detail("gold", state.gold)

    def reference(self, state):
        return f"Answer: {state.gold}"


RECORD = {"id": "q1", "question": "Which?", "choices": ["w", "x", "y", "z"], "answer": 2, "extra": 1}


def test_the_oracle_scores_one_and_state_round_trips_as_json():
    env = Harness(Letters, {"shuffle": True})
    for seed in range(5):
        assert env.oracle(RECORD, seed).reward == 1.0
    prepared = env.prepare(RECORD, 3)
    assert prepared.state.startswith('{"gold":')
    assert env.reply(prepared, "Answer: " + prepared.state[9]).reward == 1.0


def test_the_shuffle_is_the_rust_sdks_for_the_same_seed():
    order = list(range(4))
    Rng(3).shuffle(order)
    prepared = Harness(Letters, {"shuffle": True}).prepare(RECORD, 3)
    assert f'"order":{order}'.replace(" ", "") in prepared.state


def test_unknown_and_mistyped_arguments_name_the_field():
    with pytest.raises(BadArgs, match=r"field `shufle`: unknown field `shufle`, expected one of `shuffle`, `system_prompt`"):
        Harness(Letters, {"shufle": True})
    with pytest.raises(BadArgs, match=r'field `shuffle`: invalid type: string "yes", expected a boolean'):
        Harness(Letters, {"shuffle": "yes"})


def test_bad_records_name_the_field_and_extra_keys_are_ignored():
    env = Harness(Letters)
    with pytest.raises(BadRecord, match="missing field `answer`"):
        env.prepare({"question": "Q", "choices": []})
    with pytest.raises(BadRecord, match=r"field `choices\[1\]`: invalid type: integer `3`, expected a string"):
        env.prepare({"question": "Q", "choices": ["a", 3], "answer": 0})
    assert str(BadRecord("x")) == "bad-record: x"


class Buggy(Letters):
    def grade(self, state, completion):
        return Score(1.0).detail("x", {}["missing"])


def test_an_unexpected_exception_keeps_its_type_message_and_line():
    env = Harness(Buggy)
    prepared = env.prepare(RECORD)
    with pytest.raises(EnvError) as raised:
        env.grade(prepared, "A")
    message = str(raised.value)
    assert message.startswith("KeyError: 'missing' (traceback, most recent call last: test_sdk.py:"), message
    assert 'in grade: return Score(1.0).detail("x", {}["missing"])' in message, message
    assert isinstance(raised.value.__cause__, KeyError)


def test_wrong_return_types_are_reported():
    class NoTuple(Letters):
        def prepare(self, record, rng):
            return Prompt().user("q")

    with pytest.raises(EnvError, match=r"prepare must return \(Prompt, state\), not Prompt"):
        Harness(NoTuple).prepare(RECORD)


def test_fewshot_exemplars_come_before_the_question():
    env = Harness(Letters)
    shot = dict(RECORD, question="Shot?", answer=0)
    inline = env.prepare_fewshot(RECORD, [shot], False).prompt.messages
    assert len(inline) == 1 and inline[0].content.startswith("Shot?\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\nWhich?")
    turns = env.prepare_fewshot(RECORD, [shot], True).prompt.messages
    assert [m.role.value for m in turns] == ["user", "assistant", "user"] and turns[1].content == "Answer: A"


def test_the_default_advance_grades_a_reply_and_rejects_other_events():
    env = Harness(Letters)
    prepared = env.prepare(RECORD)
    step = env.advance(prepared.state, assay_env.ModelReplyEvent(assay_env.Reply("C")))
    assert isinstance(step.action, Score) and step.action.reward == 1.0
    with pytest.raises(EnvError, match="does not override `advance`"):
        env.advance(prepared.state, assay_env.CodeOutputEvent(assay_env.CodeResult(0, "", "", False, 1)))


def test_scores_keep_parse_status_apart_from_reward():
    score = Harness(Letters).grade(Harness(Letters).prepare(RECORD), "")
    assert (score.reward, score.parse_status) == (0.0, ParseStatus.NO_ANSWER)


def test_the_build_finds_every_import_even_inside_functions(tmp_path):
    (tmp_path / "env.py").write_text(
        "import json\n"
        "def f():\n"
        "    import fractions\n"
        "    from email import utils\n"
        "    try:\n"
        "        import not_installed_anywhere\n"
        "    except ImportError:\n"
        "        pass\n"
        "    return importlib.import_module('difflib')\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_env.py").write_text("import pytest\n")
    found = {(module, optional) for _, _, module, optional in _build._imports(str(tmp_path))}
    assert {("json", False), ("fractions", False), ("email", False), ("email.utils", True), ("difflib", False)} <= found
    assert ("not_installed_anywhere", True) in found and not any(m == "pytest" for m, _ in found)
    _build.preload(str(tmp_path), [])  # the optional one may be missing
    (tmp_path / "env.py").write_text("def f():\n    import not_installed_anywhere\n")
    with pytest.raises(ImportError, match=r"env.py:2 imports `not_installed_anywhere`, which cannot be imported at build time"):
        _build.preload(str(tmp_path), [])


def test_register_accepts_only_environments():
    with pytest.raises(TypeError):
        assay_env.register(Dict)
    assert assay_env.register(Letters) is Letters
