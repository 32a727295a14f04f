"""The JSON path between the host and an `Environment`: decode arguments,
records and state into the author's types, call, check and encode.

Shared by the component's exports (`_component.py`) and the native
`testing.Harness`, so a pytest test exercises exactly what the host will
call. Every exception that is not an `EnvError` becomes one naming the
exception and where it was raised, so no traceback is ever lost.
"""

import os
from typing import Any, Callable, List, Optional, Tuple, Type, TypeVar

from .decode import DecodeError, decode_json, encode_json
from .environment import Environment
from .errors import BadArgs, BadRecord, EnvError, unexpected
from .rng import Rng
from .types import Event, Prompt, Score, Step

T = TypeVar("T")

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))

# The environment `register` named, and this instance's configured one:
# module globals, because componentize-py gives every export call a new
# export object (an attribute set on `self` in `configure` is gone later).
_registered: Optional[Type[Environment]] = None


def register(env: Type[Environment]) -> Type[Environment]:
    """Make `env` the environment this plugin exports. Call it once, at the
    bottom of the environment's module (it returns `env`, so it also works
    as a class decorator)."""
    global _registered
    if not (isinstance(env, type) and issubclass(env, Environment)):
        raise TypeError(f"assay_env.register expects an Environment subclass, got {env!r}")
    _registered = env
    return env


def registered() -> Type[Environment]:
    """The registered environment class."""
    if _registered is None:
        raise EnvError("no environment registered: call `assay_env.register(MyEnvironment)` in the module")
    return _registered


def guarded(call: Callable[[], T]) -> T:
    """Run `call`, turning any exception but an `EnvError` into one that
    carries the exception and the innermost frames of the author's code."""
    try:
        return call()
    except EnvError:
        raise
    except Exception as error:  # noqa: BLE001 - the point is to catch everything
        raise unexpected(error, _SDK_DIR) from error


def configure_json(env_class: Type[Environment], args_json: str) -> Environment:
    """Build the environment from the job's `env_args` JSON (empty means `{}`)."""

    def call() -> Environment:
        try:
            args = decode_json(args_json if args_json.strip() else "{}", env_class.Args, strict=True)
        except DecodeError as error:
            raise BadArgs(str(error)) from None
        return env_class(args)

    return guarded(call)


def decode_state(env: Environment, state_json: str) -> Any:
    """The state the host handed back, as the environment's `State` type."""
    try:
        return decode_json(state_json, type(env).State, strict=False)
    except DecodeError as error:
        raise EnvError(f"cannot decode state: {error}") from None


def _record(env: Environment, record_json: str, what: str = "") -> Any:
    try:
        return decode_json(record_json, type(env).Record, strict=False)
    except DecodeError as error:
        raise BadRecord(f"{what}{error}") from None


def prepare_json(env: Environment, record_json: str, seed: int, fewshot: List[str], multiturn: bool) -> Step:
    """A sample into its first step (`ask` with the prompt), state encoded."""

    def call() -> Step:
        record = _record(env, record_json)
        rng = Rng(seed)
        if fewshot:
            exemplars = [_record(env, json, f"few-shot exemplar {i}: ") for i, json in enumerate(fewshot)]
            prepared = env.prepare_fewshot(record, exemplars, multiturn, rng)
        else:
            prepared = env.prepare(record, rng)
        prompt, state = _prompt_and_state(prepared)
        return Step.ask(prompt, encode_json(state))

    return guarded(call)


def _prompt_and_state(prepared: Any) -> Tuple[Prompt, Any]:
    if not (isinstance(prepared, tuple) and len(prepared) == 2 and isinstance(prepared[0], Prompt)):
        raise EnvError(f"prepare must return (Prompt, state), not {type(prepared).__name__}")
    return prepared


def advance_json(env: Environment, state_json: str, event: Event) -> Step:
    """The next step after an event, state encoded."""

    def call() -> Step:
        step = env.advance(decode_state(env, state_json), event)
        if not isinstance(step, Step):
            raise EnvError(f"advance must return a Step, not {type(step).__name__}")
        # Always a new string: handing componentize-py 0.25.1 back the very
        # `state_json` object it passed in made every later call about 8
        # times slower (and the instance's memory grow), measured.
        return Step(step.action, encode_json(step.state))

    return guarded(call)


def grade_json(env: Environment, state_json: str, completion: str) -> Score:
    """Grade a completion for an encoded state."""

    def call() -> Score:
        score = env.grade(decode_state(env, state_json), completion)
        if not isinstance(score, Score):
            raise EnvError(f"grade must return a Score, not {type(score).__name__}")
        return score

    return guarded(call)


def reference_json(env: Environment, state_json: str) -> Optional[str]:
    """The reference completion for an encoded state, if any. Not guarded:
    `reference` has no error channel in the WIT, so an exception traps and
    the host reports it with its traceback lines."""
    reference = env.reference(decode_state(env, state_json))
    if reference is not None and not isinstance(reference, str):
        raise EnvError(f"reference must return a str or None, not {type(reference).__name__}")
    return reference
