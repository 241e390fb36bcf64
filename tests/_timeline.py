"""Reading a text timeline back into facts, so tests assert what they planned (who read what, which write a stale
read missed and when it arrives) rather than compare whole lines pasted from a run."""

from __future__ import annotations

import re

import attrs

_LINE = re.compile(r"\s*(?P<time>\d+\.\d{3})s  (?P<edge>\S+)\s+(?P<text>.*)")
_SEES = re.compile(r"\(sees write #(?P<id>\d+)(?:, which has expired)?\)")
_WRITE = re.compile(r"\(write #(?P<id>\d+)\)")
_MISSED = re.compile(
    r"<- stale: missed write #(?P<id>\d+)"
    r"(?:, which reaches (?P<edge>\S+) at (?P<at>\d+\.\d{3})s|, held back from (?P<cut>\S+) by a partition"
    r"|, as (?P<cached>\S+)'s cached answer is older; it expires at (?P<expires>\d+\.\d{3})s \(cacheTtl\))?"
    r"(?:  \[request \S+\])?$"
)
_RESULT = re.compile(r"-> (?P<result>.*?)(?:  [(<]|$)")

PARTITION = "partition"
"""What ``Line.missed`` gives as the arrival of a write a partition holds back."""


@attrs.frozen
class Line:
    """One operation of a timeline."""

    time: float
    edge: str
    text: str

    @property
    def op(self) -> str:
        """The operation's name (``put``, ``get``, ``request`` ...)."""
        return self.text.split()[0]

    @property
    def result(self) -> str | None:
        """What a read returned, as shown (``(missing)`` or a repr); ``None`` for an operation without one."""
        found = _RESULT.search(self.text)
        return None if found is None else found["result"]

    @property
    def write(self) -> int | None:
        """The write number a put or delete made."""
        found = _WRITE.search(self.text)
        return None if found is None else int(found["id"])

    @property
    def sees(self) -> int | None:
        """The write a fresh read saw."""
        found = _SEES.search(self.text)
        return None if found is None else int(found["id"])

    @property
    def missed(self) -> tuple[int, float | str | None] | None:
        """For a stale read, the write it missed and when that reaches this edge (seconds, ``PARTITION``, or
        ``None`` when the timeline had no arrival times); ``None`` for a read that was not stale."""
        found = _MISSED.search(self.text)
        if found is None:
            return None
        if found["cut"] is not None:
            assert found["cut"] == self.edge
            return int(found["id"]), PARTITION
        if found["at"] is not None:
            assert found["edge"] == self.edge
            return int(found["id"]), float(found["at"])
        if found["expires"] is not None:  # under the edge-cache model: when the edge's older cached answer expires
            assert found["cached"] == self.edge
            return int(found["id"]), float(found["expires"])
        return int(found["id"]), None


def parse(text: str) -> list[Line]:
    """The operations of ``timeline(...)``'s output (after its header), in order; other lines are left out."""
    lines = []
    for raw in text.splitlines()[1:]:
        found = _LINE.fullmatch(raw)
        if found is not None:
            lines.append(Line(float(found["time"]), found["edge"], found["text"]))
    return lines
