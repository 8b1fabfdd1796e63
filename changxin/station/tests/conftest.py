import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


class FormTokens:
    """Hidden-form tokens for the test's `client` session, as the portal's forms issue them
    (station/services.issue_form_token): `form_token()` in the tests' payload builders."""

    client = None

    def new(self) -> str:
        from changxin.station import services

        session = self.client.session
        token = services.issue_form_token(session)
        session.save()
        return token


TOKENS = FormTokens()


def form_token() -> str:
    return TOKENS.new()


@pytest.fixture(autouse=True)
def _form_tokens_for_the_client(client):
    TOKENS.client = client
    yield
    TOKENS.client = None
