"""Pictures of histories for people: text timelines."""

from .timeline import timeline

__all__ = ["timeline"]
