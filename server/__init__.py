"""Circles: a real-time meeting server for online peer-support circles."""

__version__ = "0.1.0"
