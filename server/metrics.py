"""Prometheus metrics (prometheus-client), one registry per app. No personal data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("circles_connections", "Open Socket.IO connections on this worker", registry=r)
        self.rooms = Gauge("circles_rooms", "Rooms in the store", registry=r)
        self.events = Counter("circles_events_total", "Room events committed by this worker", ["type"], registry=r)
        self.deliveries = Counter("circles_deliveries_total", "room.event packets sent to clients", registry=r)
        self.commands = Counter("circles_commands_total", "Client commands answered", ["event", "result"],
                                registry=r)
        self.latency = Histogram("circles_command_seconds", "Time to answer a client command", ["event"],
                                 buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
                                 registry=r)
