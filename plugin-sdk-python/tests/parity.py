"""The Python SDK's answers to the cases `tests/python_sdk.rs` sends on
stdin, printed as JSON; the Rust test compares them with the Rust SDK's.
Each case is `[kind, arguments...]`:

- `["rng", seed, key or null, count]`: `count` outputs of `Rng(seed)` or `Rng.keyed(seed, key)`
- `["below", seed, [n...]]`: `below(n)` for each n, from one generator
- `["shuffle", seed, key or null, n]`: `list(range(n))` shuffled
- `["choose", seed, [items...]]`: one `choose`
- `["hash", text]`: `stable_hash` of the UTF-8 bytes
- `["render", template, [[key, value]...]]` and `["unknown", template, [known...]]`
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from assay_env import Rng, stable_hash, template  # noqa: E402


def generator(seed, key):
    return Rng(seed) if key is None else Rng.keyed(seed, key)


def answer(case):
    kind, *args = case
    if kind == "rng":
        seed, key, count = args
        rng = generator(seed, key)
        return [rng.next_u64() for _ in range(count)]
    if kind == "below":
        seed, bounds = args
        rng = Rng(seed)
        return [rng.below(n) for n in bounds]
    if kind == "shuffle":
        seed, key, n = args
        items = list(range(n))
        generator(seed, key).shuffle(items)
        return items
    if kind == "choose":
        seed, items = args
        return Rng(seed).choose(items)
    if kind == "hash":
        return stable_hash(args[0].encode("utf-8"))
    if kind == "render":
        text, values = args
        return template.render(text, [tuple(pair) for pair in values])
    if kind == "unknown":
        text, known = args
        return template.unknown_placeholder(text, known)
    raise ValueError(f"unknown case {kind}")


if __name__ == "__main__":
    json.dump([answer(case) for case in json.load(sys.stdin)], sys.stdout)
