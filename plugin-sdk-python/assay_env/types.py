"""The data an environment exchanges with the host, as plain dataclasses.

They mirror the records and variants of `assay:env@0.2.0`
(`plugin-sdk/wit/v0.2/env.wit`) field for field, so the component glue
converts them one to one and native tests see exactly what the host will.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional, Union


class Role(str, Enum):
    """Who speaks a chat message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ParseStatus(str, Enum):
    """Whether an answer could be read, kept apart from whether it was right."""

    OK = "ok"
    NO_ANSWER = "no-answer"
    MALFORMED = "malformed"
    HEDGED = "hedged"
    UNGRADED = "ungraded"


@dataclass
class ToolCall:
    """A call the model made to a tool it was offered."""

    id: str
    name: str
    arguments_json: str


@dataclass
class Message:
    """One chat message."""

    role: Role
    content: str
    tool_calls: List[ToolCall] = field(default_factory=list)
    tool_call_id: Optional[str] = None


@dataclass
class Tool:
    """A tool offered to the model (needs the `tools` capability)."""

    name: str
    description: str
    parameters_json: str


@dataclass
class Prompt:
    """The conversation to send to the model. Build it with the chained
    `system`/`user`/`assistant` methods: `Prompt().system(s).user(q)`."""

    messages: List[Message] = field(default_factory=list)
    max_tokens: Optional[int] = None
    stop: List[str] = field(default_factory=list)
    tools: List[Tool] = field(default_factory=list)

    def message(self, role: Role, content: str) -> "Prompt":
        """Append a message from any role."""
        self.messages.append(Message(role, content))
        return self

    def system(self, content: str) -> "Prompt":
        """Append a system message."""
        return self.message(Role.SYSTEM, content)

    def user(self, content: str) -> "Prompt":
        """Append a user message."""
        return self.message(Role.USER, content)

    def assistant(self, content: str) -> "Prompt":
        """Append an assistant message (e.g. a few-shot answer)."""
        return self.message(Role.ASSISTANT, content)

    def text(self) -> str:
        """All message texts joined by newlines, for assertions in tests."""
        return "\n".join(m.content for m in self.messages)


@dataclass
class Reply:
    """What a model (under test, or the judge) answered."""

    content: str
    tool_calls: List[ToolCall] = field(default_factory=list)
    finish_reason: Optional[str] = None

    def truncated(self) -> bool:
        """Whether generation was cut off at the length limit."""
        return self.finish_reason == "length"


@dataclass
class CodeRequest:
    """A program for the host's code sandbox (needs `run-code:<language>`)."""

    language: str
    source: str
    stdin: str = ""
    timeout_ms: int = 0


@dataclass
class CodeResult:
    """What running a program (or a workspace command) produced."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_ms: int


@dataclass
class JudgeRequest:
    """A question to the job's judge model (needs the `judge` capability)."""

    messages: List[Message]
    max_tokens: Optional[int] = None


@dataclass
class ContinuationRequest:
    """Continuations to score by log-likelihood (needs `loglikelihood`)."""

    context: str
    continuations: List[str]


@dataclass
class ContinuationScore:
    """The model's score of one continuation."""

    logprob: float
    tokens: int
    greedy: bool


@dataclass
class ExecRequest:
    """Workspace request: run a command with `sh -c`."""

    command: str
    stdin: str = ""
    timeout_ms: int = 0


@dataclass
class ReadFile:
    """Workspace request: read a file (relative to the workspace root)."""

    path: str


@dataclass
class WriteFile:
    """Workspace request: write a file, replacing what is there."""

    path: str
    content: str


@dataclass
class Diff:
    """Workspace request: the diff of the workspace against the task."""


WorkspaceRequest = Union[ExecRequest, ReadFile, WriteFile, Diff]


@dataclass
class WorkspaceResult:
    """What a workspace request produced: exactly one field is set, as the
    request asked (`exec`, `file` for a read, `written`, `diff`), or
    `refused` with the host's reason."""

    exec: Optional[CodeResult] = None
    file: Optional[str] = None
    written: bool = False
    diff: Optional[str] = None
    refused: Optional[str] = None


@dataclass
class Score:
    """The outcome of grading one completion: a reward, the parsed answer
    and whether one could be read (kept apart, so "wrong" and "unreadable"
    are never conflated), named metrics and free-form details."""

    reward: float
    parsed_answer: Optional[str] = None
    parse_status: ParseStatus = ParseStatus.OK
    metrics: Dict[str, float] = field(default_factory=dict)
    info: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def correct_if(cls, correct: bool) -> "Score":
        """Reward 1 if `correct`, else 0."""
        return cls(1.0 if correct else 0.0)

    @classmethod
    def no_answer(cls) -> "Score":
        """Reward 0, parse status `no-answer`: nothing answer-like was found."""
        return cls(0.0, parse_status=ParseStatus.NO_ANSWER)

    @classmethod
    def malformed(cls) -> "Score":
        """Reward 0, parse status `malformed`: an answer was there but unreadable."""
        return cls(0.0, parse_status=ParseStatus.MALFORMED)

    @classmethod
    def ungraded(cls) -> "Score":
        """Reward 0, parse status `ungraded`: the judge's reply held no grade."""
        return cls(0.0, parse_status=ParseStatus.UNGRADED)

    def answer(self, answer: str) -> "Score":
        """Record the parsed answer."""
        self.parsed_answer = answer
        return self

    def metric(self, name: str, value: float) -> "Score":
        """Add a named metric."""
        self.metrics[name] = float(value)
        return self

    def detail(self, key: str, value: Any) -> "Score":
        """Add a detail to the sample's `info` object (any JSON value)."""
        self.info[key] = value
        return self


@dataclass
class ModelReplyEvent:
    """The model under test replied."""

    reply: Reply


@dataclass
class CodeOutputEvent:
    """A `run_code` step finished."""

    result: CodeResult


@dataclass
class JudgeReplyEvent:
    """The judge replied to an `ask_judge` step."""

    reply: Reply


@dataclass
class ContinuationScoresEvent:
    """The scores of a `score_continuations` step, in request order."""

    scores: List[ContinuationScore]


@dataclass
class WorkspaceOutputEvent:
    """A `workspace` step finished."""

    result: WorkspaceResult


Event = Union[ModelReplyEvent, CodeOutputEvent, JudgeReplyEvent, ContinuationScoresEvent, WorkspaceOutputEvent]

Action = Union[Prompt, CodeRequest, JudgeRequest, ContinuationRequest, ExecRequest, ReadFile, WriteFile, Diff, Score]


@dataclass
class Step:
    """What the host should do next, with the state to hand back: build it
    with `Step.ask`, `Step.run_code`, `Step.finish`..."""

    action: Action
    state: Any

    @classmethod
    def ask(cls, prompt: Prompt, state: Any) -> "Step":
        """Ask the model with this (complete) conversation."""
        return cls(prompt, state)

    @classmethod
    def run_code(cls, request: CodeRequest, state: Any) -> "Step":
        """Ask the host to run a program (needs `run-code:<language>`)."""
        return cls(request, state)

    @classmethod
    def ask_judge(cls, request: JudgeRequest, state: Any) -> "Step":
        """Ask the judge (needs the `judge` capability)."""
        return cls(request, state)

    @classmethod
    def score_continuations(cls, request: ContinuationRequest, state: Any) -> "Step":
        """Score continuations by log-likelihood (needs `loglikelihood`)."""
        return cls(request, state)

    @classmethod
    def workspace(cls, request: WorkspaceRequest, state: Any) -> "Step":
        """Act in the sample's workspace (needs the `workspace` capability)."""
        return cls(request, state)

    @classmethod
    def finish(cls, score: Score, state: Any) -> "Step":
        """End the episode with a score."""
        return cls(score, state)


@dataclass
class ArgDoc:
    """Documentation of one `env_args` key, shown by `assay plugin info`."""

    name: str
    type_name: str
    default_json: Optional[str]
    description: str


@dataclass
class Description:
    """What an environment says about itself besides name and version."""

    text: str = ""
    args: List[ArgDoc] = field(default_factory=list)
    capabilities: List[str] = field(default_factory=list)
    default_dataset: Optional[str] = None

    def arg(self, name: str, type_name: str, default: Optional[str], doc: str) -> "Description":
        """Document an argument; `default` is the JSON of its default, or
        None when it is required."""
        self.args.append(ArgDoc(name, type_name, default, doc))
        return self

    def capability(self, capability: str) -> "Description":
        """Declare a needed capability, e.g. `run-code:python`."""
        self.capabilities.append(capability)
        return self
