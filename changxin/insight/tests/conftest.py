import pytest

from changxin.insight.tests.builders import World


@pytest.fixture
def world(db):
    return World()
