"""The component's exports: `assay:env/environment@0.2.0` implemented over
`adapter.py`, converting between the SDK's dataclasses and the bindings
componentize-py generates (`wit_world`, which exists only inside a build).

`assay plugin build` generates the app module, which imports `Environment`
from here (componentize-py looks the export class up by that name), the
author's module, and then calls `finish_build`.
"""

from typing import Any, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host
from wit_world.imports import types as wit

from . import adapter, log, types as sdk
from .decode import encode_json
from .errors import BadArgs, BadRecord, EnvError

_NAME = ""
_VERSION = ""

# The configured environment of this instance (one instance = one job's
# arguments). A module global: componentize-py does not keep the export
# object between calls.
_instance: Optional[Any] = None

_LEVELS = {
    "debug": wit.LogLevel.DEBUG,
    "info": wit.LogLevel.INFO,
    "warn": wit.LogLevel.WARN,
    "error": wit.LogLevel.ERROR,
}
# Keyed by the str-valued enums, so plain strings ("user") find them too.
_ROLES = {r: getattr(wit.Role, r.name) for r in sdk.Role}
_STATUS = {s: getattr(wit.ParseStatus, s.name) for s in sdk.ParseStatus}


def finish_build(name: str, version: str) -> None:
    """Called by the generated app module at build time, after the
    author's module registered its environment."""
    global _NAME, _VERSION
    _NAME, _VERSION = name, version
    adapter.registered()
    log._set_sink(lambda level, message: host.log(_LEVELS[level], message))


def _error(error: EnvError) -> Err:
    if isinstance(error, BadArgs):
        return Err(wit.EnvError_BadArgs(error.message))
    if isinstance(error, BadRecord):
        return Err(wit.EnvError_BadRecord(error.message))
    return Err(wit.EnvError_Internal(error.message))


def _configured() -> Any:
    if _instance is None:
        raise EnvError("called before `configure`")
    return _instance


class Environment(exports.Environment):
    """The export componentize-py binds; it delegates to the adapter."""

    def describe(self) -> wit.Metadata:
        description = adapter.registered().describe()
        args = [wit.ArgDoc(a.name, a.type_name, a.default_json, a.description) for a in description.args]
        return wit.Metadata(_NAME, _VERSION, description.text, args, list(description.capabilities), description.default_dataset)

    def configure(self, args_json: str) -> None:
        global _instance
        try:
            _instance = adapter.configure_json(adapter.registered(), args_json)
        except EnvError as error:
            raise _error(error) from None

    def prepare(self, sample: wit.Sample) -> wit.Step:
        try:
            env = _configured()
            step = adapter.prepare_json(env, sample.record_json, sample.seed, sample.fewshot, sample.fewshot_as_multiturn)
            return _step(step)
        except EnvError as error:
            raise _error(error) from None

    def advance(self, state: str, event: wit.Event) -> wit.Step:
        try:
            return _step(adapter.advance_json(_configured(), state, _event(event)))
        except EnvError as error:
            raise _error(error) from None

    def grade(self, state: str, completion: str) -> wit.Score:
        try:
            return _score(adapter.grade_json(_configured(), state, completion))
        except EnvError as error:
            raise _error(error) from None

    def reference(self, state: str) -> Optional[str]:
        # No error channel in the WIT: an exception traps, and the host
        # reports its last traceback lines as the sample's error.
        return adapter.reference_json(_configured(), state)


def _message(m: sdk.Message) -> wit.Message:
    calls = [wit.ToolCall(c.id, c.name, c.arguments_json) for c in m.tool_calls]
    return wit.Message(_ROLES[m.role], m.content, calls, m.tool_call_id)


def _prompt(p: sdk.Prompt) -> wit.Prompt:
    tools = [wit.Tool(t.name, t.description, t.parameters_json) for t in p.tools]
    return wit.Prompt([_message(m) for m in p.messages], p.max_tokens, list(p.stop), tools)


def _score(s: sdk.Score) -> wit.Score:
    if not isinstance(s, sdk.Score):
        raise EnvError(f"expected a Score, not {type(s).__name__}")
    metrics = [wit.Metric(name, float(value)) for name, value in s.metrics.items()]
    info = encode_json(s.info) if s.info else "{}"
    return wit.Score(float(s.reward), s.parsed_answer, _STATUS[s.parse_status], metrics, info)


def _action(a: Any) -> Any:
    if isinstance(a, sdk.Prompt):
        return wit.Action_AskModel(_prompt(a))
    if isinstance(a, sdk.Score):
        return wit.Action_Finish(_score(a))
    if isinstance(a, sdk.CodeRequest):
        return wit.Action_RunCode(wit.CodeRequest(a.language, a.source, a.stdin, a.timeout_ms))
    if isinstance(a, sdk.JudgeRequest):
        return wit.Action_AskJudge(wit.JudgeRequest([_message(m) for m in a.messages], a.max_tokens))
    if isinstance(a, sdk.ContinuationRequest):
        return wit.Action_ScoreContinuations(wit.ContinuationRequest(a.context, list(a.continuations)))
    if isinstance(a, sdk.ExecRequest):
        return wit.Action_Workspace(wit.WorkspaceRequest_Exec(wit.ExecRequest(a.command, a.stdin, a.timeout_ms)))
    if isinstance(a, sdk.ReadFile):
        return wit.Action_Workspace(wit.WorkspaceRequest_ReadFile(a.path))
    if isinstance(a, sdk.WriteFile):
        return wit.Action_Workspace(wit.WorkspaceRequest_WriteFile(wit.FileWrite(a.path, a.content)))
    if isinstance(a, sdk.Diff):
        return wit.Action_Workspace(wit.WorkspaceRequest_Diff())
    raise EnvError(f"a step's action must be a Prompt, Score, CodeRequest, JudgeRequest, ContinuationRequest or workspace request, not {type(a).__name__}")


def _step(step: sdk.Step) -> wit.Step:
    return wit.Step(_action(step.action), step.state)


def _reply(r: wit.ModelReply) -> sdk.Reply:
    calls = [sdk.ToolCall(c.id, c.name, c.arguments_json) for c in r.tool_calls]
    return sdk.Reply(r.content, calls, r.finish_reason)


def _code_result(r: wit.CodeResult) -> sdk.CodeResult:
    return sdk.CodeResult(r.exit_code, r.stdout, r.stderr, r.timed_out, r.duration_ms)


def _workspace_result(r: Any) -> sdk.WorkspaceResult:
    if isinstance(r, wit.WorkspaceResult_Exec):
        return sdk.WorkspaceResult(exec=_code_result(r.value))
    if isinstance(r, wit.WorkspaceResult_File):
        return sdk.WorkspaceResult(file=r.value)
    if isinstance(r, wit.WorkspaceResult_Written):
        return sdk.WorkspaceResult(written=True)
    if isinstance(r, wit.WorkspaceResult_Diff):
        return sdk.WorkspaceResult(diff=r.value)
    return sdk.WorkspaceResult(refused=r.value)


def _event(e: Any) -> sdk.Event:
    if isinstance(e, wit.Event_ModelReply):
        return sdk.ModelReplyEvent(_reply(e.value))
    if isinstance(e, wit.Event_CodeOutput):
        return sdk.CodeOutputEvent(_code_result(e.value))
    if isinstance(e, wit.Event_JudgeReply):
        return sdk.JudgeReplyEvent(_reply(e.value))
    if isinstance(e, wit.Event_ContinuationScores):
        return sdk.ContinuationScoresEvent([sdk.ContinuationScore(s.logprob, s.tokens, s.greedy) for s in e.value])
    return sdk.WorkspaceOutputEvent(_workspace_result(e.value))
