import pytest

from changxin.core.tests.builders import build_world


@pytest.fixture
def world(db):
    return build_world()
