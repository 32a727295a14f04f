"""`{{name}}`: multiple-choice questions with lettered options. Records look like
`{"id": "q1", "question": "...", "choices": ["...", "..."], "answer": 1}`, where
`answer` is the index of the correct choice (from 0)."""

import re
from dataclasses import dataclass
from typing import List, Optional

from assay_env import BadRecord, Description, Environment, Prompt, Score, register

INSTRUCTION = 'End with the line "Answer: X", X being the letter of your choice.'


@dataclass
class Args:
    """The job's `env_args` (unknown keys are errors)."""

    shuffle: bool = False
    system_prompt: Optional[str] = None


@dataclass
class Record:
    """One dataset record. Other fields (such as `id`) are ignored."""

    question: str
    choices: List[str]
    answer: int


@dataclass
class State:
    """What grading needs, kept by the host between `prepare` and `grade`."""

    gold: str  # the correct letter as shown to the model, after any shuffle
    choices: int  # how many choices were shown: later letters are no answer


class MultipleChoice(Environment):
    Args = Args
    Record = Record
    State = State

    @classmethod
    def describe(cls):
        shuffle = "Shuffle each record's choices (seeded per sample); the gold answer follows."
        return (
            Description("Multiple choice with lettered options; reads the letter of the reply.")
            .arg("shuffle", "bool", "false", shuffle)
            .arg("system_prompt", "string", "null", "A system message sent before the question.")
        )

    def prepare(self, record, rng):
        """The prompt for one record. The host seeds `rng` from the run seed, the record
        and the rollout, so a shuffle is the same whenever the sample is prepared again."""
        n = len(record.choices)
        if not 2 <= n <= 26:
            raise BadRecord("field `choices`: 2 to 26 needed")
        if not 0 <= record.answer < n:
            raise BadRecord("field `answer`: out of range")
        order = list(range(n))  # order[i]: the index in `choices` of the option shown as letter i
        if self.args.shuffle:
            rng.shuffle(order)  # the same permutation as the Rust SDK's for the same seed
        lines = [f"{letter(i)}. {record.choices[choice]}" for i, choice in enumerate(order)]
        gold = letter(order.index(record.answer))  # the gold answer follows the shuffle
        prompt = Prompt()
        if self.args.system_prompt is not None:
            prompt.system(self.args.system_prompt)
        user = f"{record.question}\n\n" + "".join(line + "\n" for line in lines) + f"\n{INSTRUCTION}"
        return prompt.user(user), State(gold, n)

    def grade(self, state, completion):
        answer = extract(completion, state.choices)
        score = Score.no_answer() if answer is None else Score.correct_if(answer == state.gold).answer(answer)
        return score.detail("gold", state.gold)

    def reference(self, state):
        """A perfect reply, used by the `oracle` model and `assay plugin check`."""
        return f"Answer: {state.gold}"


def letter(index):
    """The letter of the option at `index` (0 is `A`)."""
    return chr(ord("A") + index)


def extract(reply, n):
    """The letter a reply chooses, among the first `n` letters: the one after the last
    "answer:" (any case), else the last "(X)", else a reply that is a lone letter ("C.")."""

    last = letter(n - 1)

    def valid(c):
        return len(c) == 1 and "A" <= c <= last

    at = reply.lower().rfind("answer:")
    if at >= 0:
        rest = reply[at + 7 :].lstrip(" *(")
        if rest and valid(rest[0]) and not rest[1:2].isalnum():
            return rest[0]
    in_parens = [c for c in re.findall(r"\(([A-Z])\)", reply) if valid(c)]
    if in_parens:
        return in_parens[-1]
    lone = reply.strip().strip("*.")
    return lone if valid(lone) else None


register(MultipleChoice)
