"""A small seeded random number generator, value for value the Rust SDK's.

Written out here rather than taken from `random` on purpose: a benchmark's
shuffles must give the same permutation for the same seed forever, in
Python as in Rust, across SDK and interpreter upgrades. `random` promises
no such thing, and inside a component its global state is the one
snapshotted at build time. SplitMix64 and FNV-1a are fixed, documented
algorithms; `tests/test_parity.py` checks this file against the Rust SDK.
"""

from typing import List, Optional, Sequence, TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1


def stable_hash(data: bytes) -> int:
    """FNV-1a over bytes: a fixed, documented hash for deriving seeds from text."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & _MASK
    return value


class Rng:
    """A deterministic generator (SplitMix64). The same seed always yields
    the same sequence, here and in the Rust SDK's `Rng`."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    @classmethod
    def keyed(cls, seed: int, key: str) -> "Rng":
        """A generator from a seed and a key (e.g. a shuffle seed and a
        record id): the same pair always gives the same sequence."""
        return cls(seed ^ stable_hash(key.encode("utf-8")))

    def next_u64(self) -> int:
        """The next 64 random bits, as an int in [0, 2**64)."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """A uniform integer in [0, n), without modulo bias."""
        if n <= 0:
            raise ValueError("Rng.below(n) needs n > 0")
        # Rejection sampling: drop the top sliver that would bias the modulo.
        zone = _MASK - (_MASK % n)
        while True:
            x = self.next_u64()
            if x < zone:
                return x % n

    def shuffle(self, items: List[T]) -> None:
        """Shuffle a list in place (Fisher-Yates, as the Rust SDK does)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def choose(self, items: Sequence[T]) -> Optional[T]:
        """A uniformly chosen element, or None for an empty sequence."""
        if not items:
            return None
        return items[self.below(len(items))]
