"""Typed application keys: every shared object of the app, named once."""

from __future__ import annotations

import socketio
from aiohttp import web

from ..clock import Clock
from ..config import Config
from ..metrics import Metrics
from ..scheduler import Scheduler
from ..service import RoomService
from ..store import Store
from .socket import SocketGateway

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", RoomService)
GATEWAY = web.AppKey("gateway", SocketGateway)
METRICS = web.AppKey("metrics", Metrics)
SCHEDULER = web.AppKey("scheduler", Scheduler)
SIO = web.AppKey("sio", socketio.AsyncServer)
WORKER_ID = web.AppKey("worker_id", str)
