import pytest

from changxin.api.tests.client import key_for
from changxin.core.tests.builders import ensure_taxonomy


@pytest.fixture
def world(demo_world):
    ensure_taxonomy()
    return demo_world


@pytest.fixture
def integration_key(world):
    """The 12345 integration: an operator service user."""
    from changxin.api import keys

    return keys.create_key("12345 integration")[1]


@pytest.fixture
def key_of(world):
    return lambda username: key_for(world[username])
