"""Cron triggers on virtual time: when each ``[triggers] crons`` expression fires (croniter reads the
expressions, in UTC as Cloudflare runs them), and the ``controller`` a ``scheduled`` handler receives."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from ..core.errors import ConfigError


def check_cron(cron: str, where: str) -> None:
    """Refuse ``cron`` with a ``ConfigError`` naming ``where`` unless croniter can read it."""
    from croniter import croniter

    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise ConfigError(f"{where}: {cron!r} is not a cron expression (five fields, e.g. '*/5 * * * *')")


def next_fire(cron: str, after: float) -> float:
    """The first UNIX time strictly after ``after`` at which ``cron`` fires (UTC)."""
    from croniter import croniter

    start = datetime.fromtimestamp(after, UTC)
    return float(croniter(cron, start).get_next(float))


@attrs.define
class ScheduledController:
    """What a ``scheduled`` handler receives: ``cron`` (the expression that fired), ``scheduledTime`` (UNIX
    milliseconds; ``scheduled_time`` too) and ``noRetry()``."""

    cron: str
    scheduledTime: float  # noqa: N815 - the Workers name
    type: str = "scheduled"
    retry: bool = True
    """False once the handler called ``noRetry()``."""

    @property
    def scheduled_time(self) -> float:
        """``scheduledTime`` in Python's spelling."""
        return self.scheduledTime

    def noRetry(self) -> None:  # noqa: N802 - the Workers name
        """Ask not to retry this run if it fails (recorded; there are no retries in a simulation)."""
        self.retry = False
