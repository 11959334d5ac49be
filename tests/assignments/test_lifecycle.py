"""Assignments over HTTP and the command line: the lifecycle driven by statements, enrollments,
users and time; bulk assignment; the webhook; bad input."""

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from lrs.assignments.base import State, now
from lrs.cli import main
from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE
from lrs.usecases import assignments as lifecycle
from lrs.usecases.assignments import Assignments
from lrs.usecases.storage import open_storage
from lrs.usecases.webhook import Webhook
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

HOMEPAGE = "https://lms.example.org"
ADMIN_HEADERS = basic(*ADMIN)
XAPI = {**ADMIN_HEADERS, "X-Experience-API-Version": "1.0.3"}
QUIZ = "http://example.org/activities/quiz-1"
A = "/api/v1/assignments"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    app = make_app(storage_for(request.param, tmp_path), ACCOUNT_HOMEPAGE=HOMEPAGE)
    enrollments = app.extensions["lrs"].enrollments
    enrollments.create_user("ada", {"email": "ada@example.org"}, actor="test")
    enrollments.create_user("cy", {}, actor="test")
    enrollments.enroll("cy", COURSE, role=CourseRole.coach, actor="test")
    return app


@pytest.fixture
def http(app):
    return app.test_client()


def statement(verb="experienced", activity=QUIZ, learner="ada", **fields):
    return {
        "actor": {"account": {"homePage": HOMEPAGE, "name": learner}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": activity},
        **fields,
    }


def assign(http, headers=ADMIN_HEADERS, **fields):
    body = {"content": QUIZ, "course_key": COURSE, **fields}
    return http.post(A, json={k: v for k, v in body.items() if v is not None}, headers=headers)


def actions(http, assignment_id):
    response = http.get(f"{A}/{assignment_id}/actions", headers=ADMIN_HEADERS)
    assert response.status_code == 200, response.json
    return [(item["kind"], item["ok"]) for item in response.json]


def test_statements_move_an_assignment_to_accepted_then_completed(http):
    made = assign(http, username="ada")
    assert made.status_code == 201, made.json
    assert made.json["state"] == "allocated"
    assignment_id = made.json["id"]
    assert http.post("/xAPI/statements", json=statement(), headers=XAPI).status_code == 200
    assert http.get(f"{A}/{assignment_id}", headers=ADMIN_HEADERS).json["state"] == "accepted"
    # Someone else's completion changes nothing.
    other = statement("completed", learner="bob", result={"completion": True})
    assert http.post("/xAPI/statements", json=other, headers=XAPI).status_code == 200
    assert http.get(f"{A}/{assignment_id}", headers=ADMIN_HEADERS).json["state"] == "accepted"
    done = statement("completed", result={"completion": True})
    assert http.post("/xAPI/statements", json=done, headers=XAPI).status_code == 200
    assert http.get(f"{A}/{assignment_id}", headers=ADMIN_HEADERS).json["state"] == "completed"
    assert actions(http, assignment_id) == [
        ("created", True),
        ("accepted", True),
        ("completed", True),
    ]
    history = http.get(f"{A}/{assignment_id}/history", headers=ADMIN_HEADERS).json
    assert [(item["before"] or {}).get("state") for item in history] == [
        None,
        "allocated",
        "accepted",
    ]
    # An assignment made after the learner finished is completed at once.
    again = assign(http, username="ada", content="http://example.org/activities/quiz-2")
    done = statement("completed", activity="http://example.org/activities/quiz-2")
    http.post("/xAPI/statements", json={**done, "result": {"completion": True}}, headers=XAPI)
    assert http.get(f"{A}/{again.json['id']}", headers=ADMIN_HEADERS).json["state"] == "completed"


def test_a_store_failing_after_statements_does_not_fail_the_post(app, http, monkeypatch, caplog):
    from lrs.exceptions import ServiceUnavailable

    made = assign(http, username="ada").json

    def down(*args, **kwargs):
        raise ServiceUnavailable("the store is down")

    monkeypatch.setattr(app.extensions["lrs"].assignments, "find", down)
    response = http.post("/xAPI/statements", json=statement(), headers=XAPI)
    assert response.status_code == 200
    assert "assignments were not brought up to date" in caplog.text
    assert app.extensions["lrs"].assignments.get(made["id"]).state == State.allocated
    monkeypatch.undo()
    # Reading the assignment brings it up to date with the learner's progress.
    assert http.get(f"{A}/{made['id']}", headers=ADMIN_HEADERS).json["state"] == "accepted"


def test_an_enrollment_accepts_a_course_assignment(http):
    made = assign(http, username="ada", content=COURSE, course_key=None)
    assert made.json["course_key"] == COURSE
    enrolled = {"username": "ada", "course_key": COURSE}
    assert http.post("/api/v1/enrollments", json=enrolled, headers=ADMIN_HEADERS).status_code == 201
    found = http.get(f"{A}/{made.json['id']}", headers=ADMIN_HEADERS).json
    assert found["state"] == "accepted"


def test_an_e_mail_assignment_is_linked_to_the_user_who_has_or_gets_the_address(http):
    existing = assign(http, email="ADA@example.org")
    assert existing.json["username"] == "ada"
    first = http.get(f"{A}/{existing.json['id']}/actions", headers=ADMIN_HEADERS).json[0]
    assert first["details"] == {"linked_from": "ada@example.org"}
    later = assign(http, email="newcomer@example.org")
    assert later.json["username"] is None
    created = {"username": "newcomer", "email": "Newcomer@example.org"}
    assert http.post("/api/v1/users", json=created, headers=ADMIN_HEADERS).status_code == 201
    found = http.get(f"{A}/{later.json['id']}", headers=ADMIN_HEADERS).json
    assert found["username"] == "newcomer"
    assert ("linked", True) in actions(http, later.json["id"])
    third = assign(http, email="changed@example.org")
    http.patch("/api/v1/users/cy", json={"email": "changed@example.org"}, headers=ADMIN_HEADERS)
    assert http.get(f"{A}/{third.json['id']}", headers=ADMIN_HEADERS).json["username"] == "cy"


def test_a_link_that_fails_errors_the_assignment_until_retried(http):
    mine = assign(http, username="cy")
    waiting = assign(http, email="cy@example.org")
    assert waiting.json["username"] is None
    http.patch("/api/v1/users/cy", json={"email": "cy@example.org"}, headers=ADMIN_HEADERS)
    found = http.get(f"{A}/{waiting.json['id']}", headers=ADMIN_HEADERS).json
    assert found["state"] == "errored" and found["username"] is None
    log = http.get(f"{A}/{waiting.json['id']}/actions", headers=ADMIN_HEADERS).json
    assert [(item["kind"], item["ok"]) for item in log] == [
        ("created", True),
        ("linked", False),
        ("errored", True),
    ]
    assert "active assignment" in log[2]["reason"]
    # A retry while the other is active fails the same way; once it is cancelled, it links.
    retried = http.post(f"{A}/{waiting.json['id']}/retry", headers=ADMIN_HEADERS)
    assert retried.json["state"] == "errored"
    http.post(f"{A}/{mine.json['id']}/cancel", json={}, headers=ADMIN_HEADERS)
    retried = http.post(f"{A}/{waiting.json['id']}/retry", headers=ADMIN_HEADERS)
    assert retried.json["state"] == "allocated" and retried.json["username"] == "cy"
    again = http.post(f"{A}/{waiting.json['id']}/retry", headers=ADMIN_HEADERS)
    assert again.status_code == 409 and "is allocated" in again.json["message"]


def test_one_active_assignment_per_learner_and_content_over_http(http):
    assert assign(http, username="ada").status_code == 201
    second = assign(http, email="ada@example.org")
    assert second.status_code == 409
    assert "active assignment" in second.json["message"]


def test_expiry_when_read_and_by_the_scheduler(app, http, monkeypatch):
    due = (now() + timedelta(days=2)).isoformat()
    made = assign(http, username="ada", due=due).json
    soon = assign(http, username="cy", due=due, content=COURSE, course_key=None).json
    later = now() + timedelta(days=3)
    monkeypatch.setattr(lifecycle, "now", lambda: later)
    found = http.get(f"{A}/{made['id']}", headers=ADMIN_HEADERS).json
    assert found["state"] == "expired"
    assert actions(http, made["id"])[-1] == ("expired", True)
    expired = app.extensions["lrs-assignments"].expire()
    assert [item.id for item in expired] == [soon["id"]]
    assert app.extensions["lrs-assignments"].expire() == []  # nothing new the second time
    assign(http, username="ada", content=COURSE, course_key=None)  # no due date
    overdue = http.get(A, query_string={"overdue": "true"}, headers=ADMIN_HEADERS).json
    assert sorted(item["id"] for item in overdue) == sorted([made["id"], soon["id"]])
    assert len(http.get(A, query_string={"state": "expired"}, headers=ADMIN_HEADERS).json) == 2
    query = {"overdue": "true", "state": "allocated"}
    assert http.get(A, query_string=query, headers=ADMIN_HEADERS).json == []


def test_reminders_are_sent_once(app, http):
    service = app.extensions["lrs-assignments"]
    assign(http, username="ada", due=(now() + timedelta(hours=30)).isoformat())
    assign(http, username="cy", due=(now() + timedelta(days=5)).isoformat())
    assert [item.username for item in service.remind(timedelta(days=2))] == ["ada"]
    assert service.remind(timedelta(days=2)) == []
    assert len(service.remind(timedelta(days=6))) == 1


def test_cancel_reverse_and_acknowledge(app, http):
    made = assign(http, username="ada").json
    ada, secret = app.extensions["lrs"].credentials.create("learner", username="ada")
    learner = basic(ada.key, secret)
    assert http.post(f"{A}/{made['id']}/acknowledge", headers=learner).status_code == 200
    assert (
        http.post(f"{A}/{made['id']}/reverse", json={"reason": "x"}, headers=ADMIN_HEADERS)
        .json["message"]
        .endswith("(moves from allocated: accepted, cancelled, errored, expired)")
    )
    cancelled = http.post(
        f"{A}/{made['id']}/cancel", json={"reason": "wrong quiz"}, headers=ADMIN_HEADERS
    )
    assert cancelled.json["state"] == "cancelled"
    again = http.post(f"{A}/{made['id']}/cancel", json={}, headers=ADMIN_HEADERS)
    assert again.status_code == 409 and "none: it is final" in again.json["message"]
    assert http.post(f"{A}/{made['id']}/acknowledge", headers=learner).status_code == 409
    assert actions(http, made["id"]) == [
        ("created", True),
        ("acknowledged", True),
        ("cancelled", True),
    ]
    other = assign(http, username="ada").json
    http.post(
        "/xAPI/statements", json=statement("completed", result={"completion": True}), headers=XAPI
    )
    no_reason = http.post(f"{A}/{other['id']}/reverse", json={}, headers=ADMIN_HEADERS)
    assert no_reason.status_code == 400 and "reason" in no_reason.json["message"]
    reversed_ = http.post(
        f"{A}/{other['id']}/reverse", json={"reason": "shared answers"}, headers=ADMIN_HEADERS
    )
    assert reversed_.json["state"] == "reversed"


def test_coaches_manage_their_courses_and_learners_see_their_own(app, http):
    store = app.extensions["lrs"].credentials
    coach, secret = store.create("coach", username="cy")
    cy = basic(coach.key, secret)
    mine = assign(http, cy, username="ada")
    assert mine.status_code == 201
    assert assign(http, cy, username="ada", course_key=OTHER_COURSE).status_code == 403
    assert assign(http, cy, username="ada", course_key=None).status_code == 403
    listed = http.get(A, query_string={"course_key": COURSE}, headers=cy)
    assert [item["id"] for item in listed.json] == [mine.json["id"]]
    assert http.get(A, headers=cy).status_code == 403
    assert (
        http.post(f"{A}/{mine.json['id']}/reverse", json={"reason": "x"}, headers=cy).status_code
        == 403
    )
    ada, secret = store.create("learner", username="ada")
    learner = basic(ada.key, secret)
    assert [item["id"] for item in http.get(A, headers=learner).json] == [mine.json["id"]]
    assert http.get(A, query_string={"username": "cy"}, headers=learner).status_code == 403
    assert http.post(f"{A}/{mine.json['id']}/cancel", json={}, headers=learner).status_code == 403
    assert assign(http, learner, username="ada", content=QUIZ + "x").status_code == 403


def test_bulk_assignment_from_csv_with_a_dry_run(app, http):
    csv = (
        "content,username,email,course_key,due,note\n"
        f"{QUIZ},ada,,{COURSE},2099-01-31,first\n"
        f"{QUIZ},,someone@example.org,{COURSE},,\n"
        f"{QUIZ},ada,,{COURSE},,again\n"
        f"not an iri,ada,,{COURSE},,\n"
        f"{QUIZ},nobody,,{COURSE},,\n"
        f"{QUIZ},,bad-address,{COURSE},,\n"
        f"{QUIZ},cy,,{COURSE},yesterday,\n"
        f"{QUIZ},cy,,{COURSE},2001-01-01,\n"
    )
    headers = {**ADMIN_HEADERS, "Content-Type": "text/csv"}
    dry = http.post(f"{A}/bulk", query_string={"dry_run": "true"}, data=csv, headers=headers)
    assert dry.status_code == 200, dry.json
    results = [(item["result"], item["reason"]) for item in dry.json["results"]]
    assert [result for result, _ in results] == ["created", "created"] + ["error"] * 6
    reasons = [reason for _, reason in results[2:]]
    for reason, expected in zip(
        reasons,
        ["active assignment", "activity IRI", "no user", "invalid email", "ISO 8601", "past"],
        strict=True,
    ):
        assert expected in reason
    assert app.extensions["lrs"].assignments.find() == []
    done = http.post(f"{A}/bulk", data=csv, headers=headers)
    assert done.json["summary"] == {"created": 2, "error": 6}
    first = done.json["results"][0]
    assert first["state"] == "allocated" and first["id"]
    stored = app.extensions["lrs"].assignments.get(first["id"])
    assert stored.due == datetime(2099, 1, 31, 23, 59, 59, tzinfo=UTC) and stored.note == "first"


@pytest.mark.parametrize(
    "body, query, message",
    [
        ({"content": "nope", "username": "ada"}, None, "activity IRI"),
        ({"content": QUIZ, "username": "ada", "due": "2001-01-01T00:00:00Z"}, None, "past"),
        ({"content": QUIZ, "email": "no-at-sign"}, None, "invalid email"),
        ({"content": QUIZ, "username": "ada", "course_key": "CS 101"}, None, "course"),
        ({"content": QUIZ}, None, "username or e-mail"),
        ({"content": QUIZ, "username": "ada", "colour": "red"}, None, "colour"),
        (None, {"state": "finished"}, "state"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(app, http, body, query, message):
    if body is not None:
        response = http.post(A, json=body, headers=ADMIN_HEADERS)
    else:
        response = http.get(A, query_string=query, headers=ADMIN_HEADERS)
    assert response.status_code == 400
    assert message in json.dumps(response.json)
    assert app.extensions["lrs"].assignments.find() == []


def test_unknown_assignments_and_users_are_404(http):
    assert http.get(f"{A}/nope", headers=ADMIN_HEADERS).status_code == 404
    assert http.post(f"{A}/nope/cancel", json={}, headers=ADMIN_HEADERS).status_code == 404
    assert assign(http, username="nobody").status_code == 404


class Receiver:
    """A webhook receiver on 127.0.0.1 that fails its first ``failures`` posts."""

    def __init__(self, failures):
        self.failures = failures
        self.posts = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def app(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.posts.append((dict(environ), body))
        status = "503 Service Unavailable" if len(self.posts) <= self.failures else "204 No Content"
        start_response(status, [])
        return [b""]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_retries_until_the_receiver_recovers_and_signs_each_post():
    receiver = Receiver(failures=2)
    storage = open_storage("memory://")
    storage.enrollments.create_user("ada", {}, actor="test")
    hook = Webhook(receiver.url, "s3cret", storage.assignments, delays=(0.01, 0.02, 0.04))
    service = Assignments(storage, lifecycle.AccountAgents(HOMEPAGE), hook)
    try:
        made = service.assign(QUIZ, username="ada", actor="coach")
        assert hook.drain(10)
        assert len(receiver.posts) == 3
        deliveries = {environ["HTTP_X_LRS_DELIVERY"] for environ, _ in receiver.posts}
        assert len(deliveries) == 1  # one event, tried three times
        environ, body = receiver.posts[-1]
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert environ["HTTP_X_LRS_SIGNATURE"] == expected
        assert json.loads(body)["event"] == "created"
        assert json.loads(body)["assignment"]["id"] == made.id
        notified = storage.assignments.last_actions(made.id)["notified"]
        assert notified.details["attempts"] == 3
    finally:
        hook.close()
        receiver.stop()


def test_a_receiver_that_never_recovers_is_logged_and_blocks_nothing():
    receiver = Receiver(failures=100)
    storage = open_storage("memory://")
    storage.enrollments.create_user("ada", {}, actor="test")
    hook = Webhook(receiver.url, "s3cret", storage.assignments, delays=(0.01, 0.01))
    service = Assignments(storage, lifecycle.AccountAgents(HOMEPAGE), hook)
    try:
        made = service.assign(QUIZ, username="ada", actor="coach")
        cancelled = service.cancel(made.id, actor="coach")
        assert cancelled.state == State.cancelled  # the failing post held nothing up
        assert hook.drain(10)
        failed = [a for a in storage.assignments.actions(made.id) if a.kind == "notified"]
        assert [action.ok for action in failed] == [False, False]
        assert "503" in failed[0].reason and "3 attempts" in failed[0].reason
    finally:
        hook.close()
        receiver.stop()


def test_a_webhook_url_needs_a_secret():
    with pytest.raises(ValueError, match="LRS_WEBHOOK_SECRET"):
        make_app(WEBHOOK_URL="http://127.0.0.1:9/hook")


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_the_commands(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    assert (
        cli("users", "create", "ada", "--email", "ada@example.org", "--storage", url).exit_code == 0
    )
    created = cli(
        "assignments",
        "create",
        QUIZ,
        "--username",
        "ada",
        "--course-key",
        COURSE,
        "--due",
        "2099-12-31",
        "--storage",
        url,
    )
    assert created.exit_code == 0, created.output
    assignment_id = created.output.split("\t")[0]
    assert "allocated\tdue 2099-12-31 23:59" in created.output
    duplicate = cli("assignments", "create", QUIZ, "--email", "ada@example.org", "--storage", url)
    assert duplicate.exit_code == 1 and "active assignment" in duplicate.output
    bad = cli("assignments", "create", "nope", "--username", "ada", "--storage", url)
    assert bad.exit_code == 1 and "activity IRI" in bad.output
    rows = tmp_path / "rows.csv"
    rows.write_text(f"content,email\n{COURSE},later@example.org\n{COURSE},bad\n")
    imported = cli("assignments", "import", str(rows), "--storage", url)
    assert imported.exit_code == 1 and "1 created, 1 error" in imported.output
    assert (
        cli("users", "create", "later", "--email", "later@example.org", "--storage", url).exit_code
        == 0
    )
    enrolled = cli("enrollments", "enroll", "later", COURSE, "--storage", url)
    assert enrolled.exit_code == 0
    listed = cli("assignments", "list", "--username", "later", "--storage", url)
    assert "\taccepted\t" in listed.output
    assert cli("assignments", "remind", "--before", "soon", "--storage", url).exit_code == 2
    assert "reminded 0" in cli("assignments", "remind", "--before", "2d", "--storage", url).output
    assert "expired 0" in cli("assignments", "expire", "--storage", url).output
    cancelled = cli("assignments", "cancel", assignment_id, "--reason", "typo", "--storage", url)
    assert "\tcancelled\t" in cancelled.output
    assert cli("assignments", "cancel", assignment_id, "--storage", url).exit_code == 1
    assert cli("assignments", "list", "--state", "finished", "--storage", url).exit_code == 1


def test_a_date_alone_is_the_end_of_that_day_at_every_door(app, tmp_path):
    """Today's date is a due date, not the past: over HTTP, in bulk rows and from the CLI."""
    http = app.test_client()
    today = now().date().isoformat()
    end = datetime.fromisoformat(f"{today}T23:59:59+00:00")
    one = assign(http, username="ada", due=today)
    assert one.status_code == 201, one.json
    assert datetime.fromisoformat(one.json["due"]) == end
    rows = [{"content": COURSE, "username": "cy", "due": today}]
    bulk = http.post(f"{A}/bulk", json=rows, headers=ADMIN_HEADERS)
    (row,) = bulk.json["results"]
    assert bulk.status_code == 200 and row["result"] == "created", bulk.json
    stored = app.extensions["lrs"].assignments.get(row["id"])
    assert stored.due == end
    refused = assign(http, username="cy", due="the twelfth")
    assert refused.status_code == 400 and "due" in refused.json["message"]
