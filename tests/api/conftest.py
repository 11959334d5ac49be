import pytest

from tests.support import ADMIN, basic, make_app


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def admin():
    return basic(*ADMIN)


@pytest.fixture
def state(app):
    """The app's learner-state client, to arrange and inspect stored data."""
    return app.extensions["lrs"].state
