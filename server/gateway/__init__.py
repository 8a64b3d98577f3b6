"""The edges: Socket.IO handlers and aiohttp views. Thin: parse, authorize, call the service."""
