"""`{{name}}`: questions with a numeric answer, in the style of GSM8K. Records look like
`{"id": "q1", "question": "...", "answer": 42}`; `answer` may also be a string ("1,200")."""

import json
import re
from dataclasses import dataclass
from typing import Optional, Union

from assay_env import BadRecord, Description, Environment, Prompt, Score, register

INSTRUCTION = 'Solve it step by step, then give the final answer as "#### <number>".'


@dataclass
class Args:
    """The job's `env_args` (unknown keys are errors)."""

    system_prompt: Optional[str] = None


@dataclass
class Record:
    """One dataset record. Other fields (such as `id`) are ignored."""

    question: str
    answer: Union[int, float, str]


class NumericAnswer(Environment):
    Args = Args
    Record = Record
    State = str  # what grading needs, kept by the host between calls: the gold number

    @classmethod
    def describe(cls):
        description = Description("Numeric answers, compared as numbers.")
        return description.arg("system_prompt", "string", "null", "A system message sent before the question.")

    def prepare(self, record, rng):
        """The prompt for one record (`rng` is unused: nothing here is random)."""
        answer = record.answer
        gold = answer.strip().replace(",", "") if isinstance(answer, str) else json.dumps(answer)
        if number(gold) is None:
            raise BadRecord("field `answer`: not a number")
        prompt = Prompt()
        if self.args.system_prompt is not None:
            prompt.system(self.args.system_prompt)
        return prompt.user(f"{record.question}\n\n{INSTRUCTION}"), gold

    def grade(self, gold, completion):
        answer = extract(completion)
        if answer is None:
            return Score.no_answer()
        x, y = number(answer), number(gold)
        correct = x is not None and y is not None and abs(x - y) <= 1e-6 * max(abs(y), 1.0)
        return Score.correct_if(correct).answer(answer).detail("gold", gold)

    def reference(self, gold):
        """A perfect reply, used by the `oracle` model and `assay plugin check`."""
        return f"#### {gold}"


def extract(reply):
    """The number after the last "####", else after the last "answer is", else the
    last number of the reply; commas are removed ("1,200" is 1200)."""
    lower = reply.lower()
    for marker in ("####", "answer is"):
        at = lower.rfind(marker)
        found = numbers(lower[at:]) if at >= 0 else []
        if found:
            return found[0]
    found = numbers(lower)
    return found[-1] if found else None


def numbers(text):
    """The numbers in a text, in order: digits with a sign, a decimal point or commas."""
    tokens = (t.replace(",", "").rstrip(".") for t in re.split(r"[^0-9.,-]", text))  # a full stop ends a sentence
    return [t for t in tokens if number(t) is not None]


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


register(NumericAnswer)
