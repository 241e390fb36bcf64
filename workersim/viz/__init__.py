"""Pictures of histories for people: text timelines and space-time diagrams."""

from .spacetime import space_time_svg
from .timeline import timeline

__all__ = ["space_time_svg", "timeline"]
