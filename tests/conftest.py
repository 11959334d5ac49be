import pytest

from tests.support import LiveServer


@pytest.fixture(scope="session")
def live_server():
    """One HTTP server on 127.0.0.1 for the session; tests give it their app."""
    server = LiveServer()
    yield server
    server.stop()
