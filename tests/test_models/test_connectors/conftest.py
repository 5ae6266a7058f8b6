"""Fixtures of the connector tests."""
from tests.videochat_release import g  # noqa: F401
