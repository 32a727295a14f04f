"""JSON into typed values (dataclasses, lists, optionals...) and back, with
errors that name the field as the Rust SDK's serde decoding does:
``field `choices[2]`: invalid type: integer `3`, expected a string``.

Arguments reject unknown keys (a typo in `env_args` fails the job before it
starts); records ignore keys their dataclass does not declare.

Every type is compiled once into a decoding function: a record is decoded
on every call into the environment, and walking type hints each time cost
more than the environment's own work.
"""

import dataclasses
import json
import types
import typing
from enum import Enum
from typing import Any, Callable, Dict, List, Tuple

_NONE = type(None)

Decoder = Callable[[Any], Any]


class DecodeError(Exception):
    """A value that does not fit its type; `str()` names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Innermost last: filled in as the error leaves each container.
        self.segments: List[str] = []

    @property
    def path(self) -> str:
        """The field, as serde_path_to_error writes it (`a.b[2]`)."""
        path = ""
        for segment in reversed(self.segments):
            path += segment if segment.startswith("[") or not path else "." + segment
        return path

    def __str__(self) -> str:
        path = self.path
        return f"field `{path}`: {self.message}" if path else self.message


def decode_json(text: str, target: Any, strict: bool) -> Any:
    """Parse `text` and decode it as `target`. `strict` rejects object keys
    that a dataclass does not declare."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise DecodeError(f"not JSON: {error}") from None
    return decoder(target, strict)(value)


def decode(value: Any, target: Any, strict: bool) -> Any:
    """Decode a parsed JSON value as `target`."""
    return decoder(target, strict)(value)


_DECODERS: Dict[Tuple[Any, bool], Decoder] = {}


def decoder(target: Any, strict: bool) -> Decoder:
    """The decoding function of `target`, compiled once."""
    key = (target, strict)
    found = _DECODERS.get(key)
    if found is None:
        found = _DECODERS[key] = _compile(target, strict)
    return found


def _compile(target: Any, strict: bool) -> Decoder:
    if target is Any or target is object:
        return _identity
    if dataclasses.is_dataclass(target):
        return _dataclass_decoder(target, strict)
    origin = typing.get_origin(target)
    if origin is typing.Union or isinstance(target, getattr(types, "UnionType", ())):
        return _union_decoder(typing.get_args(target), strict)
    if origin in (list, List) or target is list:
        (item,) = typing.get_args(target) or (Any,)
        return _list_decoder(decoder(item, strict))
    if origin in (dict, Dict) or target is dict:
        _, item = typing.get_args(target) or (str, Any)
        return _dict_decoder(decoder(item, strict))
    if origin is typing.Literal:
        return _literal_decoder(typing.get_args(target))
    if isinstance(target, type) and issubclass(target, Enum):
        return _enum_decoder(target)
    if target in _SCALARS:
        return _SCALARS[target]
    raise TypeError(f"assay_env cannot decode into {target!r}: use str, int, float, bool, lists, dicts, Optional, Literal, enums or dataclasses")


def _identity(value: Any) -> Any:
    return value


def _invalid(value: Any, expected: str) -> DecodeError:
    return DecodeError(f"invalid type: {_describe(value)}, expected {expected}")


def _scalar(check: Callable[[Any], bool], expected: str, convert: Callable[[Any], Any] = _identity) -> Decoder:
    def decode_scalar(value: Any) -> Any:
        if check(value):
            return convert(value)
        raise _invalid(value, expected)

    return decode_scalar


_SCALARS: Dict[Any, Decoder] = {
    str: _scalar(lambda v: type(v) is str, "a string"),
    bool: _scalar(lambda v: type(v) is bool, "a boolean"),
    int: _scalar(lambda v: type(v) is int, "an integer"),
    float: _scalar(lambda v: type(v) is float or type(v) is int, "a number", float),
    _NONE: _scalar(lambda v: v is None, "null"),
}
_EXPECTED = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _list_decoder(item: Decoder) -> Decoder:
    def decode_list(value: Any) -> Any:
        if type(value) is not list:
            raise _invalid(value, "a list")
        try:
            return [item(v) for v in value]
        except DecodeError as error:
            index = next(i for i, v in enumerate(value) if _fails(item, v))
            error.segments.append(f"[{index}]")
            raise

    return decode_list


def _fails(item: Decoder, value: Any) -> bool:
    try:
        item(value)
        return False
    except DecodeError:
        return True


def _dict_decoder(item: Decoder) -> Decoder:
    def decode_dict(value: Any) -> Any:
        if type(value) is not dict:
            raise _invalid(value, "an object")
        decoded = {}
        for key, v in value.items():
            try:
                decoded[key] = item(v)
            except DecodeError as error:
                error.segments.append(key)
                raise
        return decoded

    return decode_dict


def _union_decoder(options: Tuple[Any, ...], strict: bool) -> Decoder:
    nullable = _NONE in options
    decoders = [decoder(o, strict) for o in options if o is not _NONE]
    names = " or ".join(_EXPECTED.get(o, getattr(o, "__name__", str(o))) for o in options if o is not _NONE)

    def decode_union(value: Any) -> Any:
        if value is None and nullable:
            return None
        errors = []
        for option in decoders:
            try:
                return option(value)
            except DecodeError as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        raise _invalid(value, names)

    return decode_union


def _literal_decoder(allowed: Tuple[Any, ...]) -> Decoder:
    shown = ", ".join(f"`{a}`" for a in allowed)

    def decode_literal(value: Any) -> Any:
        if value in allowed:
            return value
        raise DecodeError(f"unknown variant {_describe(value)}, expected one of {shown}")

    return decode_literal


def _enum_decoder(target: Any) -> Decoder:
    shown = ", ".join(f"`{m.value}`" for m in target)

    def decode_enum(value: Any) -> Any:
        try:
            return target(value)
        except ValueError:
            raise DecodeError(f"unknown variant {_describe(value)}, expected one of {shown}") from None

    return decode_enum


def _dataclass_decoder(cls: Any, strict: bool) -> Decoder:
    hints = typing.get_type_hints(cls)
    # (name, decoder, required, default when missing: None for an Optional without default)
    fields = []
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        optional = _NONE in typing.get_args(hints[f.name])
        fields.append((f.name, decoder(hints[f.name], strict), not (has_default or optional), optional and not has_default))
    known = frozenset(name for name, _, _, _ in fields)
    names = [f"`{name}`" for name, _, _, _ in fields]
    expected = "there are none" if not names else f"expected {names[0]}" if len(names) == 1 else "expected one of " + ", ".join(names)

    def decode_dataclass(value: Any) -> Any:
        if type(value) is not dict:
            raise _invalid(value, f"an object ({cls.__name__})")
        if strict:
            for key in value:
                if key not in known:
                    error = DecodeError(f"unknown field `{key}`, {expected}")
                    error.segments.append(key)
                    raise error
        kwargs = {}
        for name, decode_field, required, none_when_missing in fields:
            if name in value:
                try:
                    kwargs[name] = decode_field(value[name])
                except DecodeError as error:
                    error.segments.append(name)
                    raise
            elif required:
                raise DecodeError(f"missing field `{name}`")
            elif none_when_missing:
                kwargs[name] = None
        return cls(**kwargs)

    return decode_dataclass


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


_FIELD_NAMES: Dict[type, Tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What `json.dumps` cannot encode by itself: dataclasses as objects."""
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(value):
            raise TypeError(f"{cls.__name__} is not JSON: keep state to dataclasses, str, int, float, bool, lists and dicts")
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(value))
    return {name: getattr(value, name) for name in names}


_ENCODER = json.JSONEncoder(default=_plain, ensure_ascii=False, separators=(",", ":"))


def encode_json(value: Any) -> str:
    """A value (dataclasses included) as compact JSON."""
    return _ENCODER.encode(value)
