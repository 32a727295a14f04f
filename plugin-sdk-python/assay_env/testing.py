"""Test an environment natively with pytest, through the same JSON decoding
and state round-trips the host uses (`adapter.py`, as the component does):

    env = Harness(MyEnv, {"shuffle": True})
    prepared = env.prepare({"question": "...", "choices": [...], "answer": 1}, seed=7)
    assert env.grade(prepared, "Answer: B").reward == 1.0
    assert env.oracle(record, seed=7).reward == 1.0

Errors are raised as the host would see them: `BadArgs`, `BadRecord`, or
`EnvError` for anything else (an unexpected exception is chained as its
`__cause__`, so pytest still shows the original traceback).
"""

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Type, Union

from . import adapter
from .environment import Environment
from .errors import EnvError
from .types import Event, ModelReplyEvent, Prompt, Reply, Score, Step


@dataclass
class Prepared:
    """A prepared record: the prompt the model would see and the state as
    the host stores it (JSON text)."""

    prompt: Prompt
    state: str

    def text(self) -> str:
        """All message texts joined by newlines, for `in` assertions."""
        return self.prompt.text()


class Harness:
    """An environment configured and driven as the host drives a plugin."""

    def __init__(self, env_class: Type[Environment], args: Optional[Dict[str, Any]] = None) -> None:
        self.env = adapter.configure_json(env_class, json.dumps(args if args is not None else {}))

    def prepare(self, record: Dict[str, Any], seed: int = 0) -> Prepared:
        """Prepare a record (a dict, sent as JSON) with a seed."""
        return self.prepare_fewshot(record, [], False, seed)

    def prepare_fewshot(self, record: Dict[str, Any], exemplars: List[Dict[str, Any]], as_multiturn: bool, seed: int = 0) -> Prepared:
        """Prepare a record with few-shot exemplars, as the host does when a
        job asks for them."""
        fewshot = [json.dumps(e) for e in exemplars]
        step = adapter.prepare_json(self.env, json.dumps(record), seed, fewshot, as_multiturn)
        return Prepared(step.action, step.state)

    def grade(self, prepared: Prepared, completion: str) -> Score:
        """Grade a completion for a prepared record."""
        return adapter.grade_json(self.env, prepared.state, completion)

    def reply(self, prepared: Prepared, reply: Union[Reply, str]) -> Score:
        """Score a model reply as the host does when the model answers:
        through `advance`, which sees the finish reason."""
        reply = Reply(reply) if isinstance(reply, str) else reply
        step = self.advance(prepared.state, ModelReplyEvent(reply))
        if not isinstance(step.action, Score):
            raise EnvError(f"a reply led to {type(step.action).__name__}, not a finished score")
        return step.action

    def advance(self, state: str, event: Event) -> Step:
        """Report an event for an encoded state and get the next step (its
        state encoded), as the host does after a reply or a program run."""
        return adapter.advance_json(self.env, state, event)

    def reference(self, prepared: Prepared) -> Optional[str]:
        """The reference completion for a prepared record."""
        return adapter.reference_json(self.env, prepared.state)

    def oracle(self, record: Dict[str, Any], seed: int = 0) -> Score:
        """Prepare, take the reference and grade it: what the `oracle` model
        does. Raises if there is no reference."""
        prepared = self.prepare(record, seed)
        reference = self.reference(prepared)
        if reference is None:
            raise EnvError("environment gave no reference")
        return self.grade(prepared, reference)
