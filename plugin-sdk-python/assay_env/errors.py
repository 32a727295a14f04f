"""Errors an environment raises; the host shows them to users prefixed with
the plugin name, version and record id."""

import os
import traceback
from typing import List, Optional


class EnvError(Exception):
    """Any failure the environment reports on purpose (the WIT's `internal`)."""

    kind = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        prefix = "" if self.kind == "internal" else f"{self.kind}: "
        return prefix + self.message


class BadArgs(EnvError):
    """The job's `env_args` cannot be used. Name the field."""

    kind = "bad-args"


class BadRecord(EnvError):
    """A dataset record has a missing or malformed field. Name the field."""

    kind = "bad-record"


# Frames shown from an unexpected exception: the innermost ones say where.
_FRAMES_SHOWN = 2


def unexpected(error: BaseException, sdk_dir: Optional[str] = None) -> EnvError:
    """An `EnvError` for an exception the environment did not mean to raise:
    the exception first, then the innermost frames of the environment's own
    code (the SDK's are left out), so one line of the sample's error says
    what went wrong and where."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not (sdk_dir and _inside(f.filename, sdk_dir))] or list(frames)
    shown: List[str] = []
    for frame in own[-_FRAMES_SHOWN:]:
        where = f"{_short(frame.filename)}:{frame.lineno} in {frame.name}"
        shown.append(f"{where}: {frame.line}" if frame.line else where)
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    if shown:
        text += " (traceback, most recent call last: " + "; ".join(shown) + ")"
    return EnvError(text)


def _inside(path: str, directory: str) -> bool:
    return os.path.normpath(os.path.abspath(path)).startswith(directory + os.sep)


def _short(path: str) -> str:
    """The file name without the build machine's directories."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]
