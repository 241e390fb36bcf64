"""``History`` with files: the core's history, written to and read from JSON Lines files by path."""

from __future__ import annotations

import os
from typing import IO

from ..core.history import History as CoreHistory


class History(CoreHistory):
    """Every operation of a run as typed rows (see ``workersim.core.history.History``), saved and loaded by path,
    or streamed to a file as the run goes (``stream_to``)."""

    _file: IO[str] | None = None

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write the rows held to ``path``, one JSON object a line, a line at a time."""
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            self.write(stream)

    def stream_to(self, path: str | os.PathLike[str], *, keep: int = 0) -> None:
        """Write every row to ``path`` as it is recorded (in chunks), holding only about the newest ``keep`` rows
        in memory, so a long run's history takes a bounded amount of memory. The simulation closes the file when
        it ends (or call ``close``)."""
        stream = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by close()
        try:
            self.stream(stream.write, keep=keep)
        except BaseException:
            stream.close()
            raise
        self._file = stream

    def close(self) -> None:
        """Write what is gathered and close the file ``stream_to`` opened (nothing to do otherwise)."""
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def to_html(self, path: str | os.PathLike[str], *, title: str = "", max_delay: float = 10.0) -> None:
        """Write the rows held to ``path`` as one self-contained interactive page (``workersim.viz.history_html``:
        the diagram, step-through controls, hover details with the checkers' findings, filters by key and edge).
        ``max_delay`` is the propagation bound the checkers hold the run to."""
        from ..viz import history_html  # a thin, lazy call: the page is drawn by viz, which the store never needs

        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(history_html(self, title=title, max_delay=max_delay))

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by ``to_jsonl`` or ``stream_to`` (or recorded elsewhere in the same shape).
        Raises ``OSError`` when the file cannot be read and ``workersim.HistoryFormatError`` (naming the line)
        when it is not a history."""
        with open(path, encoding="utf-8") as stream:
            history = cls.from_lines(stream)
        assert isinstance(history, History)
        return history
