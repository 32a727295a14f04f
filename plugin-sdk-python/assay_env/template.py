"""Prompt templates with `{name}` placeholders, filled exactly as the Rust
SDK's `template` module fills them.

Templates and the values put into them are full of braces that are not
placeholders: JSON and code (`{"a": 1}`, `{x for x in s}`), LaTeX
(`\\frac{1}{2}`, `\\boxed{}`). So:

- a placeholder is `{name}` with a name of lowercase ASCII letters and `_`;
  any other brace (empty, spaces, digits, quotes, nesting) is text;
- a `{` right after a LaTeX command (`\\text{cm}`) or a backslash (`\\{`)
  never opens a placeholder;
- replacement is one pass over the template: a value containing
  `{question}` is inserted verbatim, never expanded again.

`str.format` does none of this, which is why it is not used.
"""

from typing import Mapping, Optional, Sequence, Tuple, Union

Values = Union[Mapping[str, str], Sequence[Tuple[str, str]]]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def render(template: str, values: Values) -> str:
    """Fill every `{name}` of `template` whose name is a key of `values`
    (a dict, or pairs where the first of a repeated key wins). Unknown
    names and braces that are not placeholders are kept verbatim."""
    lookup = _first_wins(values)
    out = []
    copied = 0
    open_ = template.find("{")
    while open_ >= 0:
        name = _placeholder_at(template, open_)
        if name is not None and name in lookup:
            out.append(template[copied:open_])
            out.append(lookup[name])
            copied = open_ + len(name) + 2
        open_ = template.find("{", open_ + 1)
    out.append(template[copied:])
    return "".join(out)


def unknown_placeholder(template: str, known: Sequence[str]) -> Optional[str]:
    """The first placeholder of `template` whose name is not in `known`
    (most likely a typo), or None. Braces that are not placeholders are
    never reported."""
    open_ = template.find("{")
    while open_ >= 0:
        name = _placeholder_at(template, open_)
        if name is not None and name not in known:
            return name
        open_ = template.find("{", open_ + 1)
    return None


def _first_wins(values: Values) -> Mapping[str, str]:
    if isinstance(values, Mapping):
        return values
    lookup = {}
    for key, value in values:
        lookup.setdefault(key, value)
    return lookup


def _placeholder_at(template: str, open_: int) -> Optional[str]:
    """The name of the placeholder whose `{` is at `open_`, or None if that
    brace is text: a LaTeX command's argument, after a backslash, unclosed,
    or not a name."""
    before = open_
    while before > 0 and template[before - 1] in _ASCII_LETTERS:
        before -= 1
    if before > 0 and template[before - 1] == "\\":
        return None
    close = template.find("}", open_)
    if close < 0:
        return None
    name = template[open_ + 1 : close]
    if name and all(c in _NAME_CHARS for c in name):
        return name
    return None
