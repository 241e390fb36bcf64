"""What a sweep produces, without any I/O: one record per seed, the sweep's aggregate, the results file's lines
(written as results arrive, read back to resume), and the seed ranges the command line takes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ..core.errors import WorkersimError

PASSING = ("ok", True, None)
"""Outcomes that pass: ``"ok"``, ``True``, or nothing at all (a property that returns without raising)."""

ERROR = "error"
"""The outcome of a seed whose target raised; ``SeedResult.error`` says what."""


class ResultsFormatError(WorkersimError, ValueError):
    """A results file (``--out``) holds a line that is not a sweep result, other than a cut-off last line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@attrs.frozen(kw_only=True)
class SeedResult:
    """The result of running a sweep's target on one seed."""

    seed: int
    outcome: Any
    """What the target said: a JSON-able value (``"error"`` when it raised)."""
    history_sha256: str | None = None
    """The SHA-256 of the run's history as JSON Lines (``None``: the target recorded no history, or raised)."""
    seconds: float = 0.0
    """Wall-clock seconds the run took on its worker."""
    error: str | None = None
    """``"ValueError: ..."`` when the target raised (the outcome is then ``"error"``)."""
    staleness: dict[str, Any] | None = None
    """How stale the run's reads were (``reads``, ``stale_reads``, ``max`` seconds behind), when it has a history."""
    worker: str = ""
    """``host:pid`` of the process that ran it."""
    history: str | None = attrs.field(default=None, eq=False, repr=False)
    """The history's JSON Lines text, kept only when asked for (to show a mismatch), never written out."""

    @property
    def failed(self) -> bool:
        """Whether the seed fails: its target raised, or returned an outcome other than those in ``PASSING``."""
        return self.error is not None or self.outcome not in PASSING

    @property
    def key(self) -> str:
        """The outcome as canonical JSON text: seeds with the same key are counted together."""
        return json.dumps(self.outcome, sort_keys=True)

    def to_json(self) -> dict[str, Any]:
        """The record as one results-file line's JSON object (no history text)."""
        data: dict[str, Any] = {
            "seed": self.seed,
            "outcome": self.outcome,
            "history_sha256": self.history_sha256,
            "seconds": round(self.seconds, 6),
        }
        for name in ("error", "staleness"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        data["worker"] = self.worker
        return data

    def to_line(self) -> str:
        """The record as one line of the results file, newline included."""
        return json.dumps(self.to_json(), separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, data: Any) -> SeedResult:
        """The record a results-file line holds; ``ValueError`` when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("seed"), int) or "outcome" not in data:
            raise ValueError("not a sweep result (an object with an integer seed and an outcome)")
        return cls(
            seed=data["seed"],
            outcome=data["outcome"],
            history_sha256=data.get("history_sha256"),
            seconds=float(data.get("seconds", 0.0)),
            error=data.get("error"),
            staleness=data.get("staleness"),
            worker=str(data.get("worker", "")),
        )


def parse_results(text: str) -> tuple[list[SeedResult], int]:
    """The records of a results file's ``text`` and the length of its part that holds whole records.

    A sweep that was stopped may leave its last line cut off (no newline): that line is left out of the length,
    so the file can be truncated there and appended to. Any other line that is not a record raises
    ``ResultsFormatError``."""
    results: list[SeedResult] = []
    kept = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if not line.endswith("\n"):
            break  # cut off mid-write: the seed will run again
        if line.strip():
            try:
                results.append(SeedResult.from_json(json.loads(line)))
            except ValueError as error:
                raise ResultsFormatError(str(error), number) from None
        kept += len(line)
    return results, kept


def parse_seeds(text: str) -> range:
    """The seeds ``A-B`` names (both included), or the single seed ``N``; ``ValueError`` otherwise."""
    low, dash, high = text.strip().partition("-")
    try:
        first = int(low)
        last = int(high) if dash else first
    except ValueError:
        raise ValueError(f"seeds are A-B (both included) or one seed N, whole numbers >= 0, got {text!r}") from None
    if first < 0 or last < first:
        raise ValueError(f"seeds A-B need 0 <= A <= B, got {text!r}")
    return range(first, last + 1)


@attrs.frozen(kw_only=True)
class Summary:
    """A sweep's aggregate: how many seeds gave each outcome, which failed, and how stale their reads were."""

    seeds: int
    counts: dict[str, int]
    """Seeds per outcome, keyed by the outcome's canonical JSON (``SeedResult.key``), most common first."""
    failing: tuple[SeedResult, ...]
    """Every failing seed's result, lowest seed first."""
    reads: int
    """Reads in the histories that reported staleness."""
    stale_reads: int
    max_behind: float | None
    """The most any stale read lagged behind the write it missed, in seconds (``None``: no stale read)."""
    seconds: float
    """Wall-clock seconds the runs took, added up over the workers."""

    def to_json(self) -> dict[str, Any]:
        """The aggregate as a JSON-ready dict (failing seeds by number)."""
        return {
            "seeds": self.seeds,
            "counts": self.counts,
            "failing": [result.seed for result in self.failing],
            "staleness": {"reads": self.reads, "stale_reads": self.stale_reads, "max": self.max_behind},
            "seconds": self.seconds,
        }


@attrs.define
class Tally:
    """A sweep's aggregate as results arrive, one at a time: it keeps counts, the failing seeds' results and the
    staleness totals, never every result, so a sweep of millions of seeds aggregates in little memory."""

    counts: Counter[str] = attrs.field(factory=Counter)
    failing: list[SeedResult] = attrs.field(factory=list)
    reads: int = 0
    stale_reads: int = 0
    max_behind: float | None = None
    seconds: float = 0.0

    def add(self, result: SeedResult) -> None:
        """Count one seed's result (each seed once)."""
        self.counts[result.key] += 1
        self.seconds += result.seconds
        if result.failed:
            self.failing.append(result)
        stats = result.staleness
        if stats is not None:
            self.reads += stats["reads"]
            self.stale_reads += stats["stale_reads"]
            behind = stats.get("max")
            if behind is not None and (self.max_behind is None or behind > self.max_behind):
                self.max_behind = behind

    def summary(self) -> Summary:
        """The aggregate so far."""
        return Summary(
            seeds=sum(self.counts.values()),
            counts=dict(sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))),
            failing=tuple(sorted(self.failing, key=lambda result: result.seed)),
            reads=self.reads,
            stale_reads=self.stale_reads,
            max_behind=self.max_behind,
            seconds=self.seconds,
        )


def summarize(results: Iterable[SeedResult]) -> Summary:
    """Aggregate the results of a sweep (in any order; each seed once)."""
    tally = Tally()
    for result in results:
        tally.add(result)
    return tally.summary()


def first_difference(left: str, right: str) -> tuple[int, str, str] | None:
    """The first line (numbered from 1) where two histories' JSON Lines differ, with each side's line (``""``
    where one history has ended); ``None`` when they are the same."""
    a, b = left.splitlines(), right.splitlines()
    for number in range(max(len(a), len(b))):
        one = a[number] if number < len(a) else ""
        two = b[number] if number < len(b) else ""
        if one != two:
            return number + 1, one, two
    return None


def spread(seeds: Sequence[int], count: int) -> list[int]:
    """``count`` of ``seeds`` (sorted) spread evenly from the first to the last: the seeds ``--verify`` reruns."""
    ordered = sorted(seeds)
    if count >= len(ordered):
        return ordered
    if count <= 1:
        return ordered[:count]
    step = (len(ordered) - 1) / (count - 1)
    return [ordered[round(index * step)] for index in range(count)]
