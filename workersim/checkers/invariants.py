"""Invariants a user states about a history, checked and reported like the built-in checkers.

An invariant is a function of the history's rows returning ``None`` or ``True`` when it holds, and a message (or
``False``, or several messages) when it does not::

    def every_increment_counts(history):
        counted = int(final_values(history).get(("KV", "count")) or 0)
        served = sum(1 for row in history if isinstance(row, workersim.ResponseRow) and row.status == 200)
        if counted != served:
            return f"{served} increments were served but the count is {counted}"

``final_values`` gives what the store holds once every write has arrived everywhere (quiescence): per
``(namespace, key)``, the value of the key's last write (``None`` after a delete).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..core.rows import AnyRow, KVWrite
from ._report import Report, Violation

Invariant = Callable[[Sequence[AnyRow]], object]
"""A function of the history's rows: ``None``/``True`` when it holds, else a message, ``False`` or messages."""


def final_values(history: Iterable[AnyRow]) -> dict[tuple[str, str], bytes | None]:
    """Per ``(namespace, key)``, the value every edge holds at quiescence: its last write's (``None``: deleted)."""
    return {(row.ns, row.key): row.value for row in history if isinstance(row, KVWrite)}


def check_invariants(history: Iterable[AnyRow], *invariants: Invariant) -> list[Report]:
    """A report per invariant, named after its function; a message it returns is a violation."""
    rows = list(history)
    reports = []
    for invariant in invariants:
        verdict = invariant(rows)
        if verdict is None or verdict is True:
            messages: list[str] = []
        elif verdict is False:
            messages = [f"{invariant.__name__} does not hold."]
        elif isinstance(verdict, str):
            messages = [verdict]
        elif isinstance(verdict, Iterable):
            messages = [str(message) for message in verdict]
        else:
            raise TypeError(
                f"the invariant {invariant.__name__} returned {type(verdict).__name__}: return None or True when "
                "it holds, and a message, False or messages when it does not"
            )
        name = getattr(invariant, "__name__", repr(invariant))
        reports.append(Report(name, 1, tuple(Violation((), message) for message in messages)))
    return reports
