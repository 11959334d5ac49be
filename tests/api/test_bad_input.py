"""Bad requests get a clear 4xx, in the one error shape, and change nothing."""

import pytest

from lrs.clients import ServiceUnavailable
from lrs.testing import block, user
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

URL = "/api/v1/state"
ONE = {"username": user(0), "block": block(0)}


def deep(levels):
    return "[" * levels + "]" * levels


def snapshot(state):
    """Everything stored for the test learner: states and histories."""
    blocks = [block(n) for n in range(3)]
    current = [(s.block_key, s.state, s.updated) for s in state.get_many(user(0), blocks)]
    history = [[s.state for s in state.get_history(user(0), b)] for b in blocks[:1]]
    return current, history


@pytest.fixture
def stored(state):
    state.set(user(0), block(0), {"keep": 1})
    return snapshot(state)


JSON = {"Content-Type": "application/json"}

CASES = [
    pytest.param("patch", URL, ONE, b"{bad json", JSON, id="malformed-json"),
    pytest.param("patch", URL, ONE, b'{"a": "\xff\xfe"}', JSON, id="invalid-utf8"),
    pytest.param("patch", URL, ONE, b"[1, 2]", JSON, id="state-is-a-list"),
    pytest.param("patch", URL, ONE, b'"text"', JSON, id="state-is-a-string"),
    pytest.param("patch", URL, ONE, b"", JSON, id="empty-body"),
    pytest.param("patch", URL, ONE, b"a=1", {"Content-Type": "text/plain"}, id="not-json"),
    pytest.param(
        "patch", URL, ONE, b'{"a": ' + deep(300).encode() + b"}", JSON, id="too-deep-to-store"
    ),
    pytest.param(
        "patch", URL, ONE, b'{"a": ' + deep(5000).encode() + b"}", JSON, id="too-deep-to-parse"
    ),
    pytest.param("patch", URL, ONE, b'{"a": NaN}', JSON, id="nan"),
    pytest.param("patch", URL, ONE, b'{"a": 1e999}', JSON, id="infinite-number"),
    pytest.param("patch", URL, {**ONE, "scope": "nope"}, b'{"a": 1}', JSON, id="unknown-scope"),
    pytest.param("patch", URL, {**ONE, "extra": "1"}, b'{"a": 1}', JSON, id="unknown-parameter"),
    pytest.param("patch", URL, {"block": block(0)}, b'{"a": 1}', JSON, id="missing-username"),
    pytest.param("patch", URL, {**ONE, "username": ""}, b'{"a": 1}', JSON, id="empty-username"),
    pytest.param("put", URL, ONE, b"[]", JSON, id="put-list"),
    pytest.param("put", URL, ONE, b'{"a": ' + deep(300).encode() + b"}", JSON, id="put-too-deep"),
    pytest.param("delete", URL, {**ONE, "bogus": "x"}, None, {}, id="delete-unknown-parameter"),
    pytest.param("get", URL, {**ONE, "scope": ""}, None, {}, id="get-empty-scope"),
    pytest.param(
        "post",
        f"{URL}/set-many",
        None,
        b'{"username": "learner0", "states": {"b": [1]}}',
        JSON,
        id="set-many-state-not-object",
    ),
    pytest.param(
        "post",
        f"{URL}/set-many",
        None,
        b'{"username": "learner0", "states": {"b": {"a": 1}}, "extra": 1}',
        JSON,
        id="set-many-unknown-field",
    ),
    pytest.param(
        "post",
        f"{URL}/set-many",
        None,
        b'{"username": 5, "states": {}}',
        JSON,
        id="set-many-username-not-string",
    ),
    pytest.param(
        "post",
        f"{URL}/set-many",
        None,
        b'{"username": "learner0", "states": {"b": {"a": ' + deep(300).encode() + b"}}}",
        JSON,
        id="set-many-too-deep",
    ),
    pytest.param(
        "post",
        f"{URL}/set-many",
        {"dry_run": "1"},
        b'{"username": "learner0", "states": {"b": {"a": 1}}}',
        JSON,
        id="set-many-unknown-query-parameter",
    ),
    pytest.param(
        "post",
        f"{URL}/get-many",
        None,
        b'{"username": "learner0", "blocks": "b"}',
        JSON,
        id="get-many-blocks-not-list",
    ),
    pytest.param(
        "post",
        f"{URL}/delete-many",
        None,
        b'{"username": "learner0"}',
        JSON,
        id="delete-many-without-blocks",
    ),
    pytest.param(
        "post",
        f"{URL}/get-many",
        None,
        b'{"username": "learner0", "blocks": [' + b",".join([b'"b"'] * 1001) + b"]}",
        JSON,
        id="get-many-too-many-blocks",
    ),
]


@pytest.mark.parametrize(("method", "url", "query", "body", "headers"), CASES)
def test_bad_request_is_400_and_changes_nothing(
    http, admin, state, stored, method, url, query, body, headers
):
    response = getattr(http, method)(
        url, query_string=query, data=body, headers={**admin, **headers}
    )
    assert response.status_code == 400, response.json
    assert set(response.json) >= {"code", "status", "message"}
    assert response.json["code"] == 400
    assert response.json["message"]
    assert snapshot(state) == stored


def test_field_names_with_dots_and_dollars_are_fine(http, admin, state):
    body = {"a.b": 1, "$set": 2, "": 3, "x\u0000y": 4}
    response = http.patch(URL, query_string=ONE, json=body, headers=admin)
    assert response.status_code == 200
    assert state.get(user(0), block(0)).state == body


def test_huge_body_is_413_and_changes_nothing():
    app = make_app(MAX_BODY_BYTES=1000)
    state = app.extensions["lrs"].state
    state.set(user(0), block(0), {"keep": 1})
    before = snapshot(state)
    response = app.test_client().patch(
        URL, query_string=ONE, json={"a": "x" * 2000}, headers=basic(*ADMIN)
    )
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert response.json["message"]
    assert snapshot(state) == before


class FailingState:
    """Stands for a store whose server went away."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ServiceUnavailable("connection refused")

        return fail


def test_store_failure_is_503_with_retry_after(app, admin):
    app.extensions["lrs"].state = FailingState()
    http = app.test_client()
    for response in (
        http.get(URL, query_string=ONE, headers=admin),
        http.patch(URL, query_string=ONE, json={"a": 1}, headers=admin),
        http.post(
            f"{URL}/set-many", json={"username": user(0), "states": {"b": {"a": 1}}}, headers=admin
        ),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert "retry" in response.json["message"]
        assert "Traceback" not in response.get_data(as_text=True)


def test_health_is_503_when_the_store_is_down(app):
    app.extensions["lrs"].credentials = FailingState()
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("storage", BACKENDS)
def test_a_state_nested_past_the_limit_is_400_on_every_backend_and_poisons_nothing(
    storage, tmp_path
):
    from lrs.clients.values import MAX_DEPTH

    app = make_app(storage_for(storage, tmp_path))
    http, admin = app.test_client(), basic(*ADMIN)
    state = app.extensions["lrs"].state
    state.set(user(0), block(0), {"keep": 1})
    inner = "1"
    for _ in range(MAX_DEPTH - 1):
        inner = '{"a":' + inner + "}"
    fits, too_deep = '{"f":' + inner + "}", '{"f":{"a":' + inner + "}}"
    response = http.patch(URL, query_string=ONE, data=too_deep, headers={**admin, **JSON})
    assert response.status_code == 400
    assert "nested" in response.json["message"]
    assert http.get(URL, query_string=ONE, headers=admin).json["state"] == {"keep": 1}
    response = http.patch(URL, query_string=ONE, data=fits, headers={**admin, **JSON})
    assert response.status_code == 200
    assert http.get(URL, query_string=ONE, headers=admin).status_code == 200
    history = http.get(f"{URL}/history", query_string=ONE, headers=admin)
    assert history.status_code == 200 and len(history.json) == 2


# --- round 3: each of these gave a 5xx ---------------------------------------------------

XAPI_HEADERS = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
LONG = {
    "actor": {"mbox": "mailto:ada@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.org/a"},
    "result": {"duration": "P99999999999Y"},
}


@pytest.fixture(params=BACKENDS)
def any_app(request, tmp_path):
    app = make_app(storage_for(request.param, tmp_path))
    yield app
    app.extensions["lrs"].close()


def test_a_duration_of_a_hundred_billion_years_is_stored_and_counts_as_a_year(any_app):
    response = any_app.test_client().post("/xAPI/statements", json=LONG, headers=XAPI_HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    (summary,) = any_app.extensions["lrs"].progress.summaries()
    assert summary.time_spent_us == 365 * 86_400 * 1_000_000


@pytest.mark.parametrize("method", ["post", "put"])
@pytest.mark.parametrize("boundary", ["b" * 71, "b" * 300, "ünï", "ends-in-space "])
def test_a_multipart_boundary_that_rfc_2046_refuses_is_a_400(any_app, method, boundary):
    import json

    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(LONG)}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = getattr(any_app.test_client(), method)(
        "/xAPI/statements",
        data=body,
        query_string={"statementId": "00000000-0000-4000-8000-000000000001"}
        if method == "put"
        else None,
        headers={**XAPI_HEADERS, "Content-Type": f'multipart/mixed; boundary="{boundary}"'},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "boundary" in response.json["message"]
    assert any_app.extensions["lrs"].statements.count() == 0


@pytest.mark.parametrize(
    "bound",
    ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00", "2026-13-45T00:00:00"],
)
@pytest.mark.parametrize("name", ["since", "until"])
def test_export_bounds_beyond_the_calendar_are_a_400(any_app, name, bound):
    response = any_app.test_client().get(
        "/api/v1/exports/statements",
        query_string={name: bound},
        headers=basic(*ADMIN),
        buffered=True,
    )
    assert response.status_code == 400
    assert name in response.json["message"] and "9999" in response.json["message"]
    assert any_app.extensions["lrs"].exports.list() == []


@pytest.mark.parametrize("name", ["since", "until"])
def test_statement_query_bounds_beyond_the_calendar_are_a_400(any_app, name):
    response = any_app.test_client().get(
        "/xAPI/statements",
        query_string={name: "9999-12-31T23:00:00-05:00"},
        headers=XAPI_HEADERS,
    )
    assert response.status_code == 400
    assert name in response.json["message"]
