"""Tools for testers: hypothesis strategies that search propagation schedules for the one that breaks a handler.

Needs hypothesis (``pip install workersim[test]``).
"""

from .schedules import HypothesisDelay, delay_models, seeds

__all__ = ["HypothesisDelay", "delay_models", "seeds"]
