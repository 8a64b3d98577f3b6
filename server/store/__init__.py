"""Where room state, the room logs, timers and the audit log live: memory or Redis."""

from .base import OutboxItem, Store, StoreUnavailable

__all__ = ["OutboxItem", "Store", "StoreUnavailable"]
