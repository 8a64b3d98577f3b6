"""Where room state, the room logs, timers and the audit log live: memory or Redis."""

from .base import Store, StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]
