"""The `Environment` base class: what an author subclasses."""

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from .errors import EnvError
from .rng import Rng
from .types import Description, Event, Message, ModelReplyEvent, Prompt, Reply, Role, Score, Step


@dataclass
class NoArgs:
    """Arguments of an environment that takes none: any key is rejected."""


class Environment:
    """A benchmark environment.

    Declare three types as class attributes, each a dataclass (or `str`,
    `int`, `dict`...): `Args` (the job's `env_args`; unknown keys are
    errors), `Record` (one dataset record; other keys are ignored) and
    `State` (what grading needs, kept by the host between calls). The SDK
    decodes the JSON into them and names the field when something does not
    fit.

    The instance is built once per sandbox instance from the arguments and
    holds settings only: anything that changes during an episode belongs in
    the state, because calls for different records reach different
    instances in any order.
    """

    Args: Any = NoArgs
    Record: Any = dict
    State: Any = str

    def __init__(self, args: Any) -> None:
        """Keep the arguments as `self.args`. Override it to validate them
        (raise `BadArgs("field `x`: ...")`), calling `super().__init__(args)`."""
        self.args = args

    @classmethod
    def describe(cls) -> Description:
        """Description, argument docs and capabilities for `assay plugin
        info`. Name and version come from `pyproject.toml`."""
        return Description()

    def prepare(self, record: Any, rng: Rng) -> Tuple[Prompt, Any]:
        """Turn a record into the first prompt and the state to grade
        against. `rng` is seeded by the host from the job seed, record id and
        rollout: use it (not `random`) for anything random."""
        raise NotImplementedError("an Environment must implement prepare")

    def prepare_fewshot(self, record: Any, exemplars: List[Any], as_multiturn: bool, rng: Rng) -> Tuple[Prompt, Any]:
        """Turn a record and few-shot exemplars into the first prompt. The
        default shows each exemplar's question (from `prepare`) answered by
        its reference, as the Rust SDK's `fewshot::render` does."""
        return render_fewshot(self, record, exemplars, as_multiturn, rng)

    def grade(self, state: Any, completion: str) -> Score:
        """Score a final completion."""
        raise NotImplementedError("an Environment must implement grade")

    def grade_reply(self, state: Any, reply: Reply) -> Score:
        """Score a model's reply. The default grades its text; override it
        to use the rest (`reply.truncated()` says whether it was cut off)."""
        return self.grade(state, reply.content)

    def advance(self, state: Any, event: Event) -> Step:
        """The next step after an event. The default grades the first model
        reply, right for single-turn environments; override it for
        dialogues, code execution, judges or workspaces."""
        if isinstance(event, ModelReplyEvent):
            return Step.finish(self.grade_reply(state, event.reply), state)
        raise EnvError("received an event other than a model reply, but this environment does not override `advance`")

    def reference(self, state: Any) -> Optional[str]:
        """The completion a perfect model would give, if known: the `oracle`
        model answers with it and `assay plugin check` requires it to score
        full reward."""
        return None


def render_fewshot(env: Environment, record: Any, exemplars: List[Any], as_multiturn: bool, rng: Rng) -> Tuple[Prompt, Any]:
    """The record's prompt with the exemplars answered before its last user
    message: as alternating user/assistant turns (`as_multiturn`) or as
    "question\\nanswer" blocks at the start of that message. Exemplars are
    prepared with seeds drawn from `rng` after the record's own prepare."""
    prompt, state = env.prepare(record, rng)
    if not exemplars:
        return prompt, state
    shots = []
    for index, exemplar in enumerate(exemplars):
        shot, shot_state = env.prepare(exemplar, Rng(rng.next_u64()))
        users = [m.content for m in shot.messages if m.role == Role.USER]
        answer = env.reference(shot_state)
        if not users or answer is None:
            raise EnvError(f"few-shot exemplar {index} has no question or no reference answer")
        shots.append((users[-1], answer))
    at = max((i for i, m in enumerate(prompt.messages) if m.role == Role.USER), default=None)
    if at is None:
        raise EnvError("the prompt has no user message to put few-shot exemplars before")
    if as_multiturn:
        turns = []
        for question, answer in shots:
            turns.append(Message(Role.USER, question))
            turns.append(Message(Role.ASSISTANT, answer))
        prompt.messages[at:at] = turns
    else:
        text = "".join(f"{q}\n{a}\n\n" for q, a in shots)
        prompt.messages[at].content = text + prompt.messages[at].content
    return prompt, state
