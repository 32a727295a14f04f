"""Log through the host: lines land in the run's log tagged with plugin and
record (a component has no stdout of its own). Natively (under pytest)
they go to stderr."""

import sys
from typing import Callable

# Replaced by the component glue with the host's `log` import.
_sink: Callable[[str, str], None] = lambda level, message: print(f"[{level}] {message}", file=sys.stderr)


def _set_sink(sink: Callable[[str, str], None]) -> None:
    global _sink
    _sink = sink


def debug(message: str) -> None:
    """Log at debug level."""
    _sink("debug", message)


def info(message: str) -> None:
    """Log at info level."""
    _sink("info", message)


def warn(message: str) -> None:
    """Log at warn level."""
    _sink("warn", message)


def error(message: str) -> None:
    """Log at error level."""
    _sink("error", message)
