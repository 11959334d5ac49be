"""Every kind of caller against every endpoint: 2xx, 401 or 403, as its role allows."""

import pytest

from lrs.testing import COURSE, block, user
from tests.support import ADMIN, basic

S = "/api/v1/state"
ONE = {"username": user(0), "block": block(0)}

# name: (method, path, query, json body)
ENDPOINTS = {
    "read-block": ("get", S, ONE, None),
    "head-block": ("head", S, ONE, None),
    "patch-block": ("patch", S, ONE, {"a": 2}),
    "put-block": ("put", S, ONE, {"a": 2}),
    "delete-block": ("delete", S, ONE, None),
    "get-many": ("post", f"{S}/get-many", None, {"username": user(0), "blocks": [block(0)]}),
    "set-many": (
        "post",
        f"{S}/set-many",
        None,
        {"username": user(0), "states": {block(0): {"a": 2}}},
    ),
    "delete-many": ("post", f"{S}/delete-many", None, {"username": user(0), "blocks": [block(0)]}),
    "history": ("get", f"{S}/history", ONE, None),
    "by-block": ("get", f"{S}/by-block", {"block": block(0)}, None),
    "by-course": ("get", f"{S}/by-course", {"course": COURSE}, None),
    "list-credentials": ("get", "/api/v1/credentials", None, None),
    "create-credential": ("post", "/api/v1/credentials", None, {"role": "service"}),
    "read-credential": ("get", "/api/v1/credentials/victim-key-01", None, None),
    "revoke-credential": ("delete", "/api/v1/credentials/victim-key-01", None, None),
    "me": ("get", "/api/v1/me", None, None),
    "health": ("get", "/health", None, None),
    "openapi": ("get", "/openapi.json", None, None),
}

OWN_DATA = {
    "read-block",
    "head-block",
    "patch-block",
    "put-block",
    "delete-block",
    "get-many",
    "set-many",
    "delete-many",
    "history",
}
COURSE_DATA = {"by-block", "by-course"}
ADMIN_ONLY = {"list-credentials", "create-credential", "read-credential", "revoke-credential"}
PUBLIC = {"health", "openapi"}


def expected(caller, endpoint):
    if endpoint in PUBLIC:
        return 200
    if caller in ("anonymous", "wrong-secret", "revoked", "unknown-key", "not-basic"):
        return 401
    if endpoint == "me" or caller == "admin":
        return 200
    if caller == "service":
        return 403 if endpoint in ADMIN_ONLY else 200
    if caller == "learner-self":
        return 200 if endpoint in OWN_DATA else 403
    # coach (no coached courses until enrollments exist) and other learners
    return 403


CALLERS = [
    "admin",
    "service",
    "coach",
    "learner-self",
    "learner-other",
    "anonymous",
    "wrong-secret",
    "revoked",
    "unknown-key",
    "not-basic",
]


def headers_for(app, caller):
    store = app.extensions["lrs"].credentials
    if caller == "admin":
        return basic(*ADMIN)
    if caller == "anonymous":
        return {}
    if caller == "wrong-secret":
        return basic(ADMIN[0], "not-the-secret-0000")
    if caller == "unknown-key":
        return basic("no-such-key-00", ADMIN[1])
    if caller == "not-basic":
        return {"Authorization": f"Bearer {ADMIN[1]}"}
    role, username = {
        "service": ("service", None),
        "coach": ("coach", "coach0"),
        "learner-self": ("learner", user(0)),
        "learner-other": ("learner", user(1)),
        "revoked": ("service", None),
    }[caller]
    credential, secret = store.create(role, username=username)
    if caller == "revoked":
        store.revoke(credential.key)
    return basic(credential.key, secret)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("caller", CALLERS)
def test_role_matrix(app, state, caller, endpoint):
    state.set(user(0), block(0), {"a": 1})
    app.extensions["lrs"].credentials.create("service", key="victim-key-01", secret="v" * 20)
    method, path, query, body = ENDPOINTS[endpoint]
    response = getattr(app.test_client(), method)(
        path, query_string=query, json=body, headers=headers_for(app, caller)
    )
    want = expected(caller, endpoint)
    body = response.get_json(silent=True)
    if want == 200:
        assert response.status_code < 300, (response.status_code, body)
    else:
        assert response.status_code == want, (response.status_code, body)
    if want == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert method == "head" or body["message"]
    if want in (401, 403):
        assert state.get(user(0), block(0)).state == {"a": 1}


def test_created_credential_secret_is_shown_once(http, admin):
    response = http.post(
        "/api/v1/credentials", json={"role": "learner", "username": "ada"}, headers=admin
    )
    assert response.status_code == 201
    created = response.json
    assert created["secret"]
    assert created["role"] == "learner"
    listed = http.get("/api/v1/credentials", headers=admin).json
    assert all("secret" not in item for item in listed)
    me = http.get("/api/v1/me", headers=basic(created["key"], created["secret"])).json
    assert me["username"] == "ada"


@pytest.mark.parametrize(
    "body",
    [{"role": "root"}, {"role": "learner"}, {"role": "service", "extra": 1}, {}],
)
def test_bad_credential_requests_are_400(http, admin, body):
    response = http.post("/api/v1/credentials", json=body, headers=admin)
    assert response.status_code == 400
    assert response.json["message"]


def test_revoking_an_unknown_credential_is_404(http, admin):
    assert http.delete("/api/v1/credentials/unknown-key-1", headers=admin).status_code == 404


def test_revoked_credential_is_listed_only_when_asked(http, admin, app):
    credential, _ = app.extensions["lrs"].credentials.create("service")
    http.delete(f"/api/v1/credentials/{credential.key}", headers=admin)
    keys = [item["key"] for item in http.get("/api/v1/credentials", headers=admin).json]
    assert credential.key not in keys
    query = {"include_revoked": "true"}
    keys = [
        item["key"]
        for item in http.get("/api/v1/credentials", query_string=query, headers=admin).json
    ]
    assert credential.key in keys
