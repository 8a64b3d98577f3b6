"""Typed application keys: every shared object of the app, named once."""

from __future__ import annotations

import socketio
from aiohttp import web

from ..config import Config
from ..delivery import DutyRoster, LocalDelivery
from ..metrics import Metrics
from ..service import RoomService
from ..store import Store
from .socket import SocketGateway

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", RoomService)
DELIVERY = web.AppKey("delivery", LocalDelivery)
GATEWAY = web.AppKey("gateway", SocketGateway)
METRICS = web.AppKey("metrics", Metrics)
SIO = web.AppKey("sio", socketio.AsyncServer)
# Who is on duty: this worker's delivery alone, or the cluster's presence (every worker).
DUTY = web.AppKey("duty", DutyRoster)
