"""`{{name}}`: yes/no/maybe question answering, in the style of PubMedQA. Records look like
`{"id": "q1", "question": "...", "context": "...", "answer": "yes"}` (`context` is optional)."""

import re
from dataclasses import dataclass
from typing import Optional

from assay_env import BadRecord, Description, Environment, Prompt, Score, register

ANSWERS = ("yes", "no", "maybe")
INSTRUCTION = 'Finish with "Answer: yes", "Answer: no" or "Answer: maybe".'


@dataclass
class Args:
    """The job's `env_args` (unknown keys are errors)."""

    system_prompt: Optional[str] = None


@dataclass
class Record:
    """One dataset record. Other fields (such as `id`) are ignored."""

    question: str
    answer: str
    context: Optional[str] = None


class YesNoQa(Environment):
    Args = Args
    Record = Record
    State = str  # what grading needs, kept by the host between calls: the gold answer

    @classmethod
    def describe(cls):
        description = Description("Yes/no/maybe question answering.")
        return description.arg("system_prompt", "string", "null", "A system message sent before the question.")

    def prepare(self, record, rng):
        """The prompt for one record (`rng` is unused: nothing here is random)."""
        if record.answer not in ANSWERS:
            raise BadRecord("field `answer`: not yes, no or maybe")
        context = record.context + "\n\n" if record.context is not None else ""
        prompt = Prompt()
        if self.args.system_prompt is not None:
            prompt.system(self.args.system_prompt)
        return prompt.user(f"{context}Question: {record.question}\n\n{INSTRUCTION}"), record.answer

    def grade(self, gold, completion):
        answer = extract(completion)
        if answer is None:
            return Score.no_answer()  # parse status `no-answer`, reward 0
        return Score.correct_if(answer == gold).answer(answer)

    def reference(self, gold):
        """A perfect reply, used by the `oracle` model and `assay plugin check`."""
        return f"Answer: {gold}"


def extract(reply):
    """The word after the last "answer:" (any case), else a reply that is one answer alone."""
    lower = reply.lower()
    at = lower.rfind("answer:")
    if at >= 0:
        words = [w for w in re.split(r"[\W\d_]+", lower[at + 7 :]) if w]
        word = words[0] if words else None
    else:
        word = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lower)
    return word if word in ANSWERS else None


register(YesNoQa)
