"""Every kind of caller against every endpoint: 2xx, 401 or 403, as its role allows."""

import json

import pytest

from lrs.assignments import State
from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE, block, user
from tests.support import ADMIN, basic

S = "/api/v1/state"
ONE = {"username": user(0), "block": block(0)}
ENROLLMENT = {"username": user(0), "course_key": COURSE}
XAPI = {"X-Experience-API-Version": "1.0.3"}
LEARNER_AGENT = {"account": {"homePage": "http://localhost", "name": user(0)}}
AS = "/api/v1/assignments"
QUIZ_2 = "http://example.org/activities/quiz-2"
STATEMENT = {
    "actor": LEARNER_AGENT,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.org/activities/a0"},
}

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
    "list-users": ("get", "/api/v1/users", None, None),
    "create-user": ("post", "/api/v1/users", None, {"username": "newcomer"}),
    "read-user": ("get", f"/api/v1/users/{user(0)}", None, None),
    "update-user": ("patch", f"/api/v1/users/{user(0)}", None, {"full_name": "X"}),
    "user-history": ("get", f"/api/v1/users/{user(0)}/history", None, None),
    "enroll": ("post", "/api/v1/enrollments", None, {**ENROLLMENT, "course_key": OTHER_COURSE}),
    "course-enrollments": ("get", "/api/v1/enrollments", {"course_key": COURSE}, None),
    "learner-enrollments": ("get", "/api/v1/enrollments", {"username": user(0)}, None),
    "read-enrollment": ("get", "/api/v1/enrollment", ENROLLMENT, None),
    "change-enrollment": ("patch", "/api/v1/enrollment", ENROLLMENT, {"mode": "verified"}),
    "unenroll": ("delete", "/api/v1/enrollment", ENROLLMENT, None),
    "enrollment-history": ("get", "/api/v1/enrollment/history", ENROLLMENT, None),
    "counts": ("get", "/api/v1/enrollments/counts", {"course_key": COURSE}, None),
    "bulk": ("post", "/api/v1/enrollments/bulk", None, []),
    "read-statements": ("get", "/xAPI/statements", {"agent": json.dumps(LEARNER_AGENT)}, None),
    "store-statement": ("post", "/xAPI/statements", None, STATEMENT),
    "export-statements": ("get", "/api/v1/exports/statements", None, None),
    "export-summaries": ("get", "/api/v1/exports/summaries", {"course_key": COURSE}, None),
    "export-requests": ("get", "/api/v1/exports/requests", None, None),
    "list-assignments": ("get", AS, {"username": user(0), "course_key": COURSE}, None),
    "assign": ("post", AS, None, {"content": QUIZ_2, "username": user(0), "course_key": COURSE}),
    "bulk-assign": (
        "post",
        f"{AS}/bulk",
        None,
        [{"content": QUIZ_2, "username": user(0), "course_key": COURSE}],
    ),
    "assignment-counts": ("get", f"{AS}/counts", {"course_key": COURSE}, None),
    "read-assignment": ("get", f"{AS}/{{open}}", None, None),
    "cancel-assignment": ("post", f"{AS}/{{open}}/cancel", None, {"reason": "r"}),
    "reverse-assignment": ("post", f"{AS}/{{done}}/reverse", None, {"reason": "r"}),
    "retry-assignment": ("post", f"{AS}/{{errored}}/retry", None, None),
    "acknowledge-assignment": ("post", f"{AS}/{{open}}/acknowledge", None, None),
    "assignment-actions": ("get", f"{AS}/{{open}}/actions", None, None),
    "assignment-history": ("get", f"{AS}/{{open}}/history", None, None),
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
    "read-user",
    "user-history",
    "learner-enrollments",
    "read-enrollment",
    "enrollment-history",
    "read-statements",
    "store-statement",
    "list-assignments",
    "read-assignment",
    "acknowledge-assignment",
    "assignment-actions",
    "assignment-history",
}
# What a coach of the learner's course reads.
COACHED = {
    "read-block",
    "head-block",
    "get-many",
    "history",
    "by-block",
    "by-course",
    "course-enrollments",
    "read-enrollment",
    "enrollment-history",
    "counts",
    "read-statements",
    "export-summaries",
    "list-assignments",
    "assign",
    "bulk-assign",
    "assignment-counts",
    "read-assignment",
    "cancel-assignment",
    "retry-assignment",
    "acknowledge-assignment",
    "assignment-actions",
    "assignment-history",
}
ADMIN_ONLY = {
    "list-credentials",
    "create-credential",
    "read-credential",
    "revoke-credential",
    "export-requests",
}
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
    if caller == "coach":
        return 200 if endpoint in COACHED else 403
    # a coach of another course, and other learners
    return 403


CALLERS = [
    "admin",
    "service",
    "coach",
    "coach-elsewhere",
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
        "coach-elsewhere": ("coach", "coach1"),
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
    enrollments = app.extensions["lrs"].enrollments
    for name in (user(0), user(1), "coach0", "coach1"):
        enrollments.create_user(name, {}, actor="test")
    enrollments.enroll(user(0), COURSE, actor="test")
    enrollments.enroll(user(1), OTHER_COURSE, actor="test")
    enrollments.enroll("coach0", COURSE, role=CourseRole.coach, actor="test")
    enrollments.enroll("coach1", OTHER_COURSE, role=CourseRole.coach, actor="test")
    app.extensions["lrs"].credentials.create("service", key="victim-key-01", secret="v" * 20)
    assignments = app.extensions["lrs"].assignments
    quiz = "http://example.org/activities/quiz-1"
    opened = assignments.create(quiz, username=user(0), course_key=COURSE, actor="test")
    done = assignments.create(COURSE, username=user(0), actor="test")
    for step in (State.accepted, State.completed):
        assignments.move(done.id, step, actor="test")
    errored = assignments.create(quiz, email="someone@example.org", course_key=COURSE, actor="t")
    assignments.move(errored.id, State.errored, actor="test")
    method, path, query, body = ENDPOINTS[endpoint]
    path = path.format(open=opened.id, done=done.id, errored=errored.id)
    headers = headers_for(app, caller)
    if path.startswith("/xAPI"):
        headers = {**headers, **XAPI}
    response = getattr(app.test_client(), method)(
        path, query_string=query, json=body, headers=headers, buffered=True
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
        assert enrollments.get_enrollment(user(0), COURSE).mode == "audit"
        assert enrollments.get_enrollment(user(0), COURSE).is_active
        assert enrollments.get_user(user(0)).full_name == ""
        assert len(list(enrollments.list_users())) == 4
        assert [item.state for item in assignments.find()] == [
            State.allocated,
            State.completed,
            State.errored,
        ]
        assert [action.kind for action in assignments.actions(opened.id)] == ["created"]


def test_created_credential_secret_is_shown_once(http, admin):
    unknown = http.post(
        "/api/v1/credentials", json={"role": "learner", "username": "ada"}, headers=admin
    )
    assert unknown.status_code == 400 and "no user 'ada'" in unknown.json["message"]
    response = http.post(
        "/api/v1/credentials",
        json={"role": "learner", "username": "ada", "allow_unknown_user": True},
        headers=admin,
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
