"""What every checker returns."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Violation:
    """One thing that went wrong: the history rows involved (by ``id``) and a sentence saying what."""

    ops: tuple[int, ...]
    message: str


@attrs.frozen
class Report:
    """A checker's verdict: ``ok``, how many operations it checked, and every violation it found."""

    name: str
    checked: int
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether nothing went wrong."""
        return not self.violations

    def __str__(self) -> str:
        if not self.checked and self.ok:
            # "ok" would read as a pass, when nothing in the history was for this checker to look at.
            return f"{self.name}: nothing to check (no operation it looks at)"
        head = f"{self.name}: {'ok' if self.ok else f'{len(self.violations)} violation(s)'} ({self.checked} checked)"
        return "\n".join([head, *(f"  - {v.message}" for v in self.violations)])

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "name": self.name,
            "ok": self.ok,
            "checked": self.checked,
            "violations": [{"ops": list(v.ops), "message": v.message} for v in self.violations],
        }
