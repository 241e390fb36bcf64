"""Counter-based hashing: the only source of randomness in the model.

Every random choice is a pure function of the seed and stable identities (a version number, an edge name), so
the same seed gives the same run whatever order the calls happen in and whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import hashlib

MASK64 = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """Return the splitmix64 finaliser of ``x``: a bijective, well-mixed 64-bit hash."""
    return mix(x)


def mix(*parts: int) -> int:
    """Hash a sequence of integers into one 64-bit value (order matters): ``h = splitmix64(h ^ part)`` for each
    part in turn, from ``h = 0``."""
    h = 0
    for part in parts:
        # splitmix64 written out here, not called: every arrival time mixes twice. Its first mask also cuts a part
        # wider than 64 bits (or negative) to its low 64 bits, as if the part had been masked first.
        z = ((h ^ part) + 0x9E3779B97F4A7C15) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        h = z ^ (z >> 31)
    return h


def name_key(name: str) -> int:
    """A stable 64-bit key for a name; ``hash(str)`` is salted per process, so it is never used."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def derive_seed(*parts: int | str) -> int:
    """A 64-bit seed for a generator of its own, from stable parts (numbers, names): the same parts give the same
    seed in every process."""
    return mix(*(name_key(part) if isinstance(part, str) else part for part in parts))
