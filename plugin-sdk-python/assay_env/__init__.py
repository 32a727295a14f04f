"""Write assay benchmark environments in Python.

An environment turns dataset records into prompts and model replies into
scores. Subclass `Environment`, declare its `Args`, `Record` and `State`
dataclasses, implement `prepare`, `grade` and `reference`, and call
`register(MyEnvironment)` at the bottom of the module. `assay plugin build`
turns the project into a sandboxed WebAssembly component speaking
`assay:env@0.2.0`, the same interface as Rust environments.

Test it natively with `assay_env.testing.Harness`, which takes the same
JSON path the host does.
"""

from . import log, template
from .adapter import register
from .environment import Environment, NoArgs
from .errors import BadArgs, BadRecord, EnvError
from .rng import Rng, stable_hash
from .types import (
    ArgDoc,
    CodeOutputEvent,
    CodeRequest,
    CodeResult,
    ContinuationRequest,
    ContinuationScore,
    ContinuationScoresEvent,
    Description,
    Diff,
    ExecRequest,
    JudgeReplyEvent,
    JudgeRequest,
    Message,
    ModelReplyEvent,
    ParseStatus,
    Prompt,
    ReadFile,
    Reply,
    Role,
    Score,
    Step,
    Tool,
    ToolCall,
    WorkspaceOutputEvent,
    WorkspaceResult,
    WriteFile,
)

#: The version of the WIT interface (`assay:env`) this SDK builds against:
#: the same as the Rust SDK's `API_VERSION`.
API_VERSION = "0.2.0"

__all__ = [
    "API_VERSION", "ArgDoc", "BadArgs", "BadRecord", "CodeOutputEvent", "CodeRequest", "CodeResult",
    "ContinuationRequest", "ContinuationScore", "ContinuationScoresEvent", "Description", "Diff", "EnvError",
    "Environment", "ExecRequest", "JudgeReplyEvent", "JudgeRequest", "Message", "ModelReplyEvent", "NoArgs",
    "ParseStatus", "Prompt", "ReadFile", "Reply", "Rng", "Role", "Score", "Step", "Tool", "ToolCall",
    "WorkspaceOutputEvent", "WorkspaceResult", "WriteFile", "log", "register", "stable_hash", "template",
]
