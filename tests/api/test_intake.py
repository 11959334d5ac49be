"""What every request must be before anything reads it: a body within the limit, UTF-8 parameters.

A chunked body has no Content-Length: the server must count what it reads, not
read up to the limit and store what it got.
"""

import http.client
import json
from urllib.parse import urlencode, urlsplit

import pytest

from lrs.testing import block, user
from tests.support import ADMIN, basic, make_app

LIMIT = 100_000
LEARNER = json.dumps({"account": {"homePage": "http://localhost", "name": "ada"}})
ACTIVITY = "http://example.org/activities/a0"


def send(url, method, path, body, headers, *, chunked):
    """Send ``body`` with Content-Length, or chunked with no length at all."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        if chunked:
            pieces = (body[n : n + 8192] for n in range(0, len(body), 8192))
            connection.request(method, path, body=pieces, headers=headers, encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def server(live_server):
    live_server.app = make_app(MAX_BODY_BYTES=LIMIT)
    return live_server


def xapi(content_type):
    return {
        **basic(*ADMIN),
        "X-Experience-API-Version": "2.0.0",
        "Content-Type": content_type,
    }


DOCUMENTS = [
    pytest.param(
        "/xAPI/activities/state?"
        + urlencode({"activityId": ACTIVITY, "agent": LEARNER, "stateId": "bookmark"}),
        id="state",
    ),
    pytest.param(
        "/xAPI/activities/profile?" + urlencode({"activityId": ACTIVITY, "profileId": "p"}),
        id="activity profile",
    ),
    pytest.param(
        "/xAPI/agents/profile?" + urlencode({"agent": LEARNER, "profileId": "p"}),
        id="agent profile",
    ),
]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_document_over_the_limit_is_413_and_stores_nothing(server, path, chunked):
    body = b"x" * (LIMIT * 3)
    status, answer = send(
        server.url, "PUT", path, body, xapi("application/octet-stream"), chunked=chunked
    )
    assert status == 413
    assert json.loads(answer)["code"] == 413
    status, _ = send(server.url, "GET", path, b"", xapi("application/json"), chunked=False)
    assert status == 404


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_chunked_document_within_the_limit_is_stored_whole(server, path):
    body = bytes(range(256)) * (LIMIT // 256)
    status, _ = send(server.url, "PUT", path, body, xapi("application/octet-stream"), chunked=True)
    assert status == 204
    status, stored = send(server.url, "GET", path, b"", xapi("application/json"), chunked=False)
    assert (status, stored) == (200, body)


def test_a_chunked_learner_block_over_the_limit_leaves_the_block_as_it_was(server):
    state = server.app.extensions["lrs"].state
    activity = str(block(0))
    state.set("ada", activity, {"keep": 1})
    path = "/xAPI/activities/state?" + urlencode(
        {"activityId": activity, "agent": LEARNER, "stateId": "user_state"}
    )
    body = json.dumps({"big": "x" * (LIMIT * 2)}).encode()
    status, _ = send(server.url, "POST", path, body, xapi("application/json"), chunked=True)
    assert status == 413
    assert state.get("ada", activity).state == {"keep": 1}
    assert [entry.state for entry in state.get_history("ada", activity)] == [{"keep": 1}]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_json_over_the_limit_is_413_not_invalid_json(server, chunked):
    big = "x" * (LIMIT * 2)
    state_path = "/api/v1/state?" + urlencode({"username": user(0), "block": block(0)})
    admin_json = {**basic(*ADMIN), "Content-Type": "application/json"}
    status, answer = send(
        server.url,
        "PATCH",
        state_path,
        json.dumps({"a": big}).encode(),
        admin_json,
        chunked=chunked,
    )
    assert status == 413, answer
    statement = {
        "actor": {"mbox": "mailto:ada@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": ACTIVITY, "definition": {"description": {"en": big}}},
    }
    status, answer = send(
        server.url,
        "POST",
        "/xAPI/statements",
        json.dumps(statement).encode(),
        xapi("application/json"),
        chunked=chunked,
    )
    assert status == 413, answer
    assert server.app.extensions["lrs"].statements.count() == 0
    assert list(server.app.extensions["lrs"].state.get_many(user(0), [block(0)])) == []


def test_a_chunked_json_body_within_the_limit_is_read_whole(server):
    path = "/api/v1/state?" + urlencode({"username": user(0), "block": block(0)})
    value = "y" * (LIMIT // 2)
    headers = {**basic(*ADMIN), "Content-Type": "application/json"}
    status, answer = send(
        server.url, "PATCH", path, json.dumps({"a": value}).encode(), headers, chunked=True
    )
    assert status == 200, answer
    assert server.app.extensions["lrs"].state.get(user(0), block(0)).state == {"a": value}


def test_the_limit_is_checked_before_credentials():
    http = make_app(MAX_BODY_BYTES=1000).test_client()
    response = http.put("/api/v1/state?username=u&block=b", data=b"x" * 5000)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/state?username=%FF&block=b",
        "/api/v1/state?username=ada&block=%C3%28",
        "/xAPI/statements?agent=%FE",
        "/api/v1/users/ada?x=%80",
    ],
)
def test_parameters_that_are_not_utf8_are_400(app, http, admin, path):
    state = app.extensions["lrs"].state
    for method in ("get", "patch"):
        response = getattr(http, method)(
            path, json={"a": 1}, headers={**admin, "X-Experience-API-Version": "2.0.0"}
        )
        assert response.status_code == 400, (method, path, response.get_json())
        assert "UTF-8" in response.json["message"]
    assert list(state.iter_all_for_block("b")) == []
    assert list(state.iter_all_for_block("%C3(")) == []


def test_percent_encoded_utf8_is_fine(http, admin, state):
    response = http.patch(
        "/api/v1/state?username=%C3%A9mile&block=b%2B1", json={"a": 1}, headers=admin
    )
    assert response.status_code == 200
    assert state.get("émile", "b+1").state == {"a": 1}
