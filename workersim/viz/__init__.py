"""Pictures of histories for people: text timelines, space-time diagrams and interactive pages."""

from .page import history_html
from .spacetime import space_time_svg
from .timeline import timeline

__all__ = ["history_html", "space_time_svg", "timeline"]
