"""``History`` with files: the core's history, written to and read from JSON Lines files by path."""

from __future__ import annotations

import os

from ..core.history import History as CoreHistory


class History(CoreHistory):
    """Every operation of a run as typed rows (see ``workersim.core.history.History``), saved and loaded by path."""

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write the history to ``path``, one JSON object a line, a line at a time."""
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            self.write(stream)

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by ``to_jsonl`` (or recorded elsewhere in the same shape). Raises ``OSError``
        when the file cannot be read and ``workersim.HistoryFormatError`` (naming the line) when it is not a
        history."""
        with open(path, encoding="utf-8") as stream:
            history = cls.from_lines(stream)
        assert isinstance(history, History)
        return history
