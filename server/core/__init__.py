"""The pure core of Circles: room state and every transition, with no IO.

Nothing in this package imports asyncio, aiohttp, socketio or redis. Every
transition is a function of ``(state, command, now) -> Outcome``; the clock is an
argument, and an illegal command raises :class:`CommandError` leaving the state
unchanged (the transition works on a copy).
"""
