"""The simulation on trio: virtual time, the conductor that orders operations, and the edges' bindings."""

from .engine import Engine, task_identities
from .history import History
from .load import LoadStats
from .simulation import DEFAULT_EDGES, DEFAULT_START_TIME, Env, Simulation, engine, observe_simulations, run

__all__ = [
    "DEFAULT_EDGES",
    "DEFAULT_START_TIME",
    "Engine",
    "Env",
    "History",
    "LoadStats",
    "Simulation",
    "engine",
    "observe_simulations",
    "run",
    "task_identities",
]
