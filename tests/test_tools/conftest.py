"""Fixtures of the converter tests: a synthetic VideoChat-TPO release."""
from tests.videochat_release import converted, g, model, official  # noqa: F401
