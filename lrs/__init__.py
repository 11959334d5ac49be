"""A Learning Record Store with a pluggable learner-state client."""

__version__ = "0.1.0"
