import pytest

from changxin.api.tests.client import Api, key_for
from changxin.core.tests.builders import ensure_taxonomy


@pytest.fixture
def world(demo_world):
    ensure_taxonomy()
    return demo_world


@pytest.fixture
def api_as(world):
    """api_as("lugouqiao") → an Api client authenticated with a fresh key of that demo user."""

    def make(username: str) -> Api:
        return Api(key_for(world[username]))

    return make
