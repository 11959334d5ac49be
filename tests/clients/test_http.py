import httpx
import pytest

from lrs.clients import (
    DoesNotExist,
    HttpUserStateClient,
    PermissionDenied,
    ServiceUnavailable,
    connect,
)
from lrs.testing import UserStateClientContract, block, user
from tests.support import ADMIN, make_app


class TestHttpUserStateClient(UserStateClientContract):
    """The whole contract, over real HTTP to a live server on 127.0.0.1."""

    @pytest.fixture
    def client(self, live_server):
        live_server.app = make_app()
        client = connect(live_server.url, auth=ADMIN)
        yield client
        client.close()


@pytest.fixture
def app():
    return make_app()


def in_process(app, auth=ADMIN):
    return HttpUserStateClient("http://lrs.test", auth, transport=httpx.WSGITransport(app=app))


def test_each_many_call_is_one_request(app):
    requests = []
    app.before_request(lambda: requests.append(1) and None)
    client = in_process(app)
    client.set_many(user(0), {block(n): {"n": n} for n in range(100)})
    assert len(requests) == 1
    assert len(list(client.get_many(user(0), [block(n) for n in range(100)]))) == 100
    assert len(requests) == 2
    client.delete_many(user(0), [block(n) for n in range(100)], fields=["n"])
    assert len(requests) == 3


def test_wrong_credentials_raise_permission_denied(app):
    client = in_process(app, auth=(ADMIN[0], "wrong-secret-000000"))
    with pytest.raises(PermissionDenied, match="credentials"):
        client.get(user(0), block(0))


def test_a_learner_credential_reaches_only_its_own_state(app):
    credential, secret = app.extensions["lrs"].credentials.create("learner", username=user(0))
    client = in_process(app, auth=(credential.key, secret))
    client.set(user(0), block(0), {"a": 1})
    assert client.get(user(0), block(0)).state == {"a": 1}
    with pytest.raises(PermissionDenied):
        client.set(user(1), block(0), {"a": 1})
    with pytest.raises(PermissionDenied):
        list(client.iter_all_for_block(block(0)))


def test_unreachable_server_raises_service_unavailable():
    client = HttpUserStateClient("http://127.0.0.1:9", ADMIN, timeout=0.5)
    with pytest.raises(ServiceUnavailable) as raised:
        client.get(user(0), block(0))
    assert isinstance(raised.value.__cause__, httpx.TransportError)


def test_server_errors_raise_service_unavailable():
    def failing(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [b'{"message": "the store is unavailable"}']

    client = HttpUserStateClient(
        "http://lrs.test", ADMIN, transport=httpx.WSGITransport(app=failing)
    )
    with pytest.raises(ServiceUnavailable, match="store is unavailable"):
        client.set(user(0), block(0), {"a": 1})


def test_history_of_missing_block_raises_at_call(app):
    client = in_process(app)
    with pytest.raises(DoesNotExist):
        client.get_history(user(0), block(0))


def test_iteration_walks_every_page(app):
    client = in_process(app)
    for n in range(25):
        client.set(user(n), block(0), {"n": n})
    results = list(client.iter_all_for_block(block(0), batch_size=4))
    assert sorted(result.state["n"] for result in results) == list(range(25))
    for n in range(120):
        client.set(user(0), block(1), {"n": n})
    assert len(list(client.get_history(user(0), block(1)))) == 120


def test_http_url_takes_no_history_options():
    with pytest.raises(ValueError, match="history"):
        connect("http://127.0.0.1:9", history_url="memory://")
