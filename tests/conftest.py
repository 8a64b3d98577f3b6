"""Fixtures every suite may use: a real redis-server of the tests' own (tests/redis_server.py)."""

pytest_plugins = ("tests.redis_server",)
