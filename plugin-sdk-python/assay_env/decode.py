"""JSON into typed values (dataclasses, lists, optionals...) and back, with
errors that name the field as the Rust SDK's serde decoding does:
``field `choices[2]`: invalid type: integer `3`, expected a string``.

Arguments reject unknown keys (a typo in `env_args` fails the job before it
starts); records ignore keys their dataclass does not declare.
"""

import dataclasses
import json
import sys
import types
import typing
from enum import Enum
from typing import Any, Dict, List, Tuple

_NONE = type(None)


class DecodeError(Exception):
    """A value that does not fit its type; `str()` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"field `{self.path}`: {self.message}" if self.path else self.message


def decode_json(text: str, target: Any, strict: bool) -> Any:
    """Parse `text` and decode it as `target`. `strict` rejects object keys
    that a dataclass does not declare."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise DecodeError("", f"not JSON: {error}") from None
    return decode(value, target, strict)


def decode(value: Any, target: Any, strict: bool, path: str = "") -> Any:
    """Decode a parsed JSON value as `target`."""
    if target is Any or target is object:
        return value
    if dataclasses.is_dataclass(target):
        return _decode_dataclass(value, target, strict, path)
    origin = typing.get_origin(target)
    if origin is typing.Union or (sys.version_info >= (3, 10) and _is_union_type(target)):
        return _decode_union(value, typing.get_args(target), strict, path)
    if origin in (list, List):
        (item,) = typing.get_args(target) or (Any,)
        if not isinstance(value, list):
            raise DecodeError(path, f"invalid type: {_describe(value)}, expected a list")
        return [decode(v, item, strict, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Dict):
        _, item = typing.get_args(target) or (str, Any)
        if not isinstance(value, dict):
            raise DecodeError(path, f"invalid type: {_describe(value)}, expected an object")
        return {k: decode(v, item, strict, _join(path, k)) for k, v in value.items()}
    if origin is typing.Literal:
        allowed = typing.get_args(target)
        if value not in allowed:
            shown = ", ".join(f"`{a}`" for a in allowed)
            raise DecodeError(path, f"unknown variant {_describe(value)}, expected one of {shown}")
        return value
    if isinstance(target, type) and issubclass(target, Enum):
        try:
            return target(value)
        except ValueError:
            shown = ", ".join(f"`{m.value}`" for m in target)
            raise DecodeError(path, f"unknown variant {_describe(value)}, expected one of {shown}") from None
    return _decode_scalar(value, target, path)


def _is_union_type(target: Any) -> bool:
    return isinstance(target, types.UnionType)


def _decode_union(value: Any, options: Tuple[Any, ...], strict: bool, path: str) -> Any:
    if value is None and _NONE in options:
        return None
    errors = []
    for option in options:
        if option is _NONE:
            continue
        try:
            return decode(value, option, strict, path)
        except DecodeError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    raise DecodeError(path, f"invalid type: {_describe(value)}, expected {_expected(options)}")


def _decode_scalar(value: Any, target: Any, path: str) -> Any:
    if target is str and isinstance(value, str):
        return value
    if target is bool and isinstance(value, bool):
        return value
    if target is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if target is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if target is _NONE and value is None:
        return None
    if target not in _EXPECTED:
        raise TypeError(f"assay_env cannot decode into {target!r}: use str, int, float, bool, lists, dicts, Optional, Literal or dataclasses")
    raise DecodeError(path, f"invalid type: {_describe(value)}, expected {_EXPECTED[target]}")


_EXPECTED = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", _NONE: "null"}


def _expected(options: Tuple[Any, ...]) -> str:
    names = [_EXPECTED.get(o, getattr(o, "__name__", str(o))) for o in options if o is not _NONE]
    return " or ".join(names)


# Per dataclass: (name, type, required) of each field, resolved once.
_FIELDS: Dict[type, List[Tuple[str, Any, bool]]] = {}


def _fields(cls: type) -> List[Tuple[str, Any, bool]]:
    cached = _FIELDS.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls)
        cached = []
        for f in dataclasses.fields(cls):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            optional = _NONE in typing.get_args(hints[f.name])
            cached.append((f.name, hints[f.name], not (has_default or optional)))
        _FIELDS[cls] = cached
    return cached


def _decode_dataclass(value: Any, cls: type, strict: bool, path: str) -> Any:
    if not isinstance(value, dict):
        raise DecodeError(path, f"invalid type: {_describe(value)}, expected an object ({cls.__name__})")
    specs = _fields(cls)
    if strict:
        known = {name for name, _, _ in specs}
        for key in value:
            if key not in known:
                raise DecodeError(_join(path, key), f"unknown field `{key}`, {_one_of(specs)}")
    kwargs = {}
    for name, hint, required in specs:
        if name in value:
            kwargs[name] = decode(value[name], hint, strict, _join(path, name))
        elif required:
            raise DecodeError(path, f"missing field `{name}`")
        elif _NONE in typing.get_args(hint) and not _has_default(cls, name):
            kwargs[name] = None
    return cls(**kwargs)


def _has_default(cls: type, name: str) -> bool:
    f = cls.__dataclass_fields__[name]
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _one_of(specs: List[Tuple[str, Any, bool]]) -> str:
    names = [f"`{name}`" for name, _, _ in specs]
    if not names:
        return "there are none"
    if len(names) == 1:
        return f"expected {names[0]}"
    return "expected one of " + ", ".join(names)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    """A JSON value as serde describes one in `invalid type: ...`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{json.dumps(value)}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _plain(value: Any) -> Any:
    """What `json.dumps` cannot encode by itself: dataclasses as objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON: keep state to dataclasses, str, int, float, bool, lists and dicts")


def encode_json(value: Any) -> str:
    """A value (dataclasses included) as compact JSON."""
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))
