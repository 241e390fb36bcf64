"""Counter-based hashing: the only source of randomness in the model.

Every random choice is a pure function of the seed and stable identities (a version number, an edge name), so
the same seed gives the same run whatever order the calls happen in and whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import hashlib

MASK64 = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """Return the splitmix64 finaliser of ``x``: a bijective, well-mixed 64-bit hash."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix(*parts: int) -> int:
    """Hash a sequence of integers into one 64-bit value (order matters)."""
    h = 0
    for part in parts:
        h = splitmix64(h ^ (part & MASK64))
    return h


def name_key(name: str) -> int:
    """A stable 64-bit key for a name; ``hash(str)`` is salted per process, so it is never used."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def unit_interval(draw: int) -> float:
    """Map a 64-bit draw onto [0, 1) with 53 bits of precision."""
    return (draw >> 11) * (1.0 / (1 << 53))


def derive_seed(*parts: int | str) -> int:
    """A 64-bit seed for a generator of its own, from stable parts (numbers, names): the same parts give the same
    seed in every process."""
    return mix(*(name_key(part) if isinstance(part, str) else part for part in parts))
