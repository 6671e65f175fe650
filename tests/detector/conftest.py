"""Detector tests are plain Python: no Home Assistant instance is started for them."""

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the integration tests' autouse fixture, which would start Home Assistant."""
