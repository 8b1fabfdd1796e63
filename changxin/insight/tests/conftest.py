import pytest

from changxin.core.tests.builders import FengtaiWorld


@pytest.fixture
def world(db):
    return FengtaiWorld()
