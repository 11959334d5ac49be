"""Exports: every kind, both formats, filters, who may export what, and the record of each."""

import csv
import io
import json
import uuid

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.credentials.base import Role
from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE
from lrs.usecases.export_formats import neutralized
from lrs.usecases.export_kinds import KINDS
from lrs.usecases.storage import open_storage
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

HOMEPAGE = "https://lms.example.org"
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
ADMIN_HEADERS = basic(*ADMIN)
QUESTION = "http://adlnet.gov/expapi/activities/cmi.interaction"


def account(name):
    return {"account": {"homePage": HOMEPAGE, "name": name}}


def block(course, n):
    return course.replace("course-v1:", "block-v1:") + f"+type@problem+block@p{n}"


def statement(n, actor, activity, minute, **fields):
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {"id": activity, "definition": {"name": {"en-US": f"Question {n}"}}},
        "timestamp": f"2026-03-02T09:{minute:02d}:00Z",
        **fields,
    }


def fill(app):
    storage = app.extensions["lrs"]
    for name in ("ada", "bob", "cy"):
        storage.enrollments.create_user(name, {"email": f"{name}@example.org"}, actor="test")
    storage.enrollments.enroll("ada", COURSE, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("bob", COURSE, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("bob", OTHER_COURSE, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("cy", COURSE, actor="test", role=CourseRole.coach)
    batch = [
        statement(0, account("ada"), block(COURSE, 1), 0, result={"success": True}),
        statement(
            1,
            account("ada"),
            block(COURSE, 2),
            3,
            # What a learner typed, made to run in a spreadsheet.
            result={"response": '=HYPERLINK("http://evil.example")', "score": {"scaled": -0.5}},
        ),
        statement(2, account("bob"), block(COURSE, 1), 5),
        statement(3, account("bob"), block(OTHER_COURSE, 1), 7),
        statement(4, {"mbox": "mailto:guest@example.org", "name": "@guest"}, "http://x.org/a", 9),
        # dan is not enrolled: the course's coach does not see him.
        statement(5, account("dan"), block(COURSE, 3), 10),
        statement(
            6,
            account("ada"),
            {"objectType": "StatementRef", "id": str(uuid.UUID(int=3))},
            11,
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        ),
    ]
    batch[6]["object"] = {"objectType": "StatementRef", "id": str(uuid.UUID(int=3))}
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    storage.state.set("ada", block(COURSE, 1), {"answer": 1})
    storage.state.set("ada", block(COURSE, 1), {"answer": 2})
    return batch


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    app = make_app(storage_for(request.param, tmp_path), ACCOUNT_HOMEPAGE=HOMEPAGE)
    fill(app)
    return app


def export(app, kind, headers=ADMIN_HEADERS, **query):
    return app.test_client().get(
        f"/api/v1/exports/{kind}", query_string=query, headers=headers, buffered=True
    )


def lines(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def rows(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_statements_export_voided_ones_too_oldest_first_as_stored(app):
    found = lines(export(app, "statements"))
    assert [item["id"] for item in found] == [str(uuid.UUID(int=n + 1)) for n in range(7)]
    stored = app.extensions["lrs"].statements.get(found[0]["id"])
    assert found[0] == json.loads(stored.text)
    course = lines(export(app, "statements", course_key=OTHER_COURSE))
    assert [item["id"] for item in course] == [str(uuid.UUID(int=4))]


def test_the_time_range_is_read_from_the_stored_time(app):
    found = lines(export(app, "statements"))
    stored = [item["stored"] for item in found]
    middle = lines(export(app, "statements", since=stored[1], until=stored[3]))
    assert [item["stored"] for item in middle] == stored[2:4]
    assert lines(export(app, "statements", since="2999-01-01")) == []


def test_statements_as_csv_flatten_to_readable_columns_with_the_statement_last(app):
    response = export(app, "statements", format="csv")
    assert response.mimetype == "text/csv"
    found = rows(response)
    assert list(found[0]) == list(KINDS["statements"].columns)
    first = found[0]
    assert first["actor"] == f"account:{HOMEPAGE}|ada"
    assert first["verb"] == "answered" and first["object_name"] == "Question 0"
    assert first["course_key"] == COURSE and first["success"] == "true"
    assert json.loads(first["statement"])["id"] == first["id"]
    assert [row["voided"] for row in found] == ["false", "false", "true"] + ["false"] * 4


def test_csv_cells_that_would_run_as_formulas_are_neutralized(app):
    found = rows(export(app, "statements", format="csv"))
    assert found[1]["response"] == '\'=HYPERLINK("http://evil.example")'
    assert found[1]["score_scaled"] == "-0.5"  # a number is left alone
    assert found[4]["actor_name"] == "'@guest"
    for cell, written in [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-12.5e3", "-12.5e3"),
        ("safe", "safe"),
        (3, "3"),
        (True, "true"),
        (None, ""),
    ]:
        assert neutralized(cell) == written


def test_a_byte_order_mark_only_when_asked(app):
    assert export(app, "users", format="csv", bom="true").get_data().startswith(b"\xef\xbb\xbf")
    assert export(app, "users", format="csv").get_data().startswith(b"username,")


def test_users_enrollments_and_their_changes(app):
    users = rows(export(app, "users", format="csv"))
    assert [row["username"] for row in users] == ["ada", "bob", "cy"]
    assert users[0]["email"] == "ada@example.org"
    assert [
        row["username"] for row in rows(export(app, "users", format="csv", course_key=OTHER_COURSE))
    ] == ["bob"]
    enrollments = lines(export(app, "enrollments", course_key=COURSE))
    assert [(item["username"], item["role"]) for item in enrollments] == [
        ("ada", "learner"),
        ("bob", "learner"),
        ("cy", "coach"),
    ]
    app.extensions["lrs"].enrollments.update_enrollment(
        "bob", COURSE, is_active=False, actor="test"
    )
    changes = lines(export(app, "enrollment-changes"))
    assert [(item["course_key"], item["username"], item["action"]) for item in changes] == sorted(
        [
            (COURSE, "ada", "created"),
            (COURSE, "bob", "created"),
            (COURSE, "bob", "unenrolled"),
            (OTHER_COURSE, "bob", "created"),
            (COURSE, "cy", "created"),
        ]
    )
    assert changes[0]["after"]["is_active"] is True
    assert lines(export(app, "enrollment-changes", since="2999-01-01")) == []


def test_state_history_of_a_course(app):
    found = lines(export(app, "state-history", course_key=COURSE))
    assert [(item["username"], item["state"]) for item in found] == [
        ("ada", {"answer": 1}),
        ("ada", {"answer": 2}),
    ]
    response = export(app, "state-history")
    assert response.status_code == 400
    assert "a course at a time" in response.json["message"]


def test_progress_records(app):
    summaries = lines(export(app, "summaries", course_key=COURSE))
    # bob's statement in the course is voided: he has no progress in it.
    assert [(item["username"], item["activity"]) for item in summaries] == [
        ("ada", block(COURSE, 1)),
        ("ada", block(COURSE, 2)),
        ("dan", block(COURSE, 3)),
    ]
    sessions = rows(export(app, "sessions", format="csv"))
    assert {row["username"] for row in sessions} == {"ada", "bob", "dan", ""}
    # Names beside identifiers, for those who read the file in a spreadsheet.
    app.extensions["lrs"].enrollments.update_user("ada", {"full_name": "Ada L."}, actor="test")
    named = rows(export(app, "summaries", format="csv", course_key=COURSE))
    assert list(named[0])[:5] == ["username", "full_name", "agent", "activity", "activity_name"]
    assert (named[0]["full_name"], named[2]["full_name"]) == ("Ada L.", "")
    assert named[0]["activity_name"] == "Question 2"  # from the merged definition
    attempts = lines(export(app, "attempts", course_key=COURSE))
    assert {item["item"] for item in attempts} == {block(COURSE, 1), block(COURSE, 2)}
    assert attempts[0]["history"][0]["statement_id"] == str(uuid.UUID(int=1))
    assert lines(export(app, "exams")) == []


def test_coaches_export_the_progress_of_their_course_and_nothing_else(app):
    found, secret = app.extensions["lrs"].credentials.create(Role.coach, username="cy")
    cy = basic(found.key, secret)
    summaries = lines(export(app, "summaries", cy, course_key=COURSE))
    assert {item["username"] for item in summaries} == {"ada"}
    assert export(app, "summaries", cy).status_code == 403
    assert export(app, "summaries", cy, course_key=OTHER_COURSE).status_code == 403
    assert export(app, "statements", cy, course_key=COURSE).status_code == 403
    learner, secret = app.extensions["lrs"].credentials.create(Role.learner, username="ada")
    assert export(app, "summaries", basic(learner.key, secret)).status_code == 403
    listed = app.test_client().get("/api/v1/exports/requests", headers=cy)
    assert listed.status_code == 403


def test_every_export_is_recorded_with_its_filters_and_rows(app):
    response = export(app, "statements", format="csv", since="2026-01-01", course_key=COURSE)
    assert len(rows(response)) == 4
    name = response.headers["Content-Disposition"]
    assert name.startswith('attachment; filename="lrs-statements-course-v1_Org_Course_Run-')
    assert "-20260101T000000Z-" in name and name.endswith('.csv"')
    listed = app.test_client().get("/api/v1/exports/requests", headers=ADMIN_HEADERS)
    assert listed.status_code == 200
    (record,) = listed.json
    assert record["id"] == response.headers["X-Export-Id"]
    assert record["credential"] == ADMIN[0] and record["kind"] == "statements"
    assert record["format"] == "csv" and record["rows"] == 4
    assert record["filters"] == {"since": "2026-01-01T00:00:00Z", "course_key": COURSE}
    assert record["finished"] is not None


@pytest.mark.parametrize(
    "kind, query, message",
    [
        ("everything", {}, "no export kind 'everything'"),
        ("statements", {"format": "xlsx"}, "format"),
        ("statements", {"since": "yesterday"}, "since must be an ISO 8601 time"),
        ("statements", {"since": "2026-03-02", "until": "2026-03-01"}, "since is after until"),
        ("statements", {"colour": "blue"}, "colour"),
    ],
)
def test_bad_requests_are_400_and_recorded_nowhere(app, kind, query, message):
    response = export(app, kind, **query)
    assert response.status_code == 400
    assert message in json.dumps(response.json)
    assert app.extensions["lrs"].exports.list() == []


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_the_command_writes_a_file_that_imports_back_the_same(tmp_path):
    url = f"sqlite:///{tmp_path}/lrs.db"
    app = make_app(open_storage(url), ACCOUNT_HOMEPAGE=HOMEPAGE)
    fill(app)
    app.extensions["lrs"].close()
    out = tmp_path / "statements.ndjson"
    result = cli("export", "statements", "--out", str(out), "--storage", url)
    assert result.exit_code == 0, result.stderr
    assert "exported 7 statements" in result.stderr
    copy = f"sqlite:///{tmp_path}/copy.db"
    result = cli("import", "statements", str(out), "--preserve-stored", "--storage", copy)
    assert result.exit_code == 0, result.stdout
    again = tmp_path / "again.ndjson"
    cli("export", "statements", "--out", str(again), "--storage", copy)
    assert again.read_bytes() == out.read_bytes()
    with open_storage(copy) as stores:
        assert stores.statements.get(str(uuid.UUID(int=3))).voided
        assert len(stores.progress.summaries()) == 5
    result = cli("export", "users", "--format", "csv", "--bom", "--storage", url)
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbfusername,email")
    with open_storage(url) as stores:
        assert [record.kind for record in stores.exports.list()] == ["users", "statements"]
        assert all(record.credential.startswith("cli:") for record in stores.exports.list())


@pytest.mark.parametrize(
    "args, message",
    [
        (["everything"], "no export kind 'everything'"),
        (["statements", "--since", "yesterday"], "--since must be an ISO 8601 time"),
        (["statements", "--since", "2026-02-01", "--until", "2026-01-01"], "since is after until"),
        (["state-history"], "a course at a time"),
        (["statements", "--format", "xlsx"], "xlsx"),
    ],
)
def test_the_command_refuses_bad_input(tmp_path, args, message):
    url = f"sqlite:///{tmp_path}/lrs.db"
    open_storage(url).close()  # an LRS's file, empty
    result = cli("export", *args, "--storage", url)
    assert result.exit_code == 2
    assert message in result.stderr
    with open_storage(url) as stores:
        assert stores.exports.list() == []


def test_exports_past_the_bound_are_503_with_retry_after_and_recorded_nowhere():
    app = make_app(EXPORTS_AT_ONCE=1)
    slots = app.extensions["lrs-export-slots"]
    assert slots.acquire(blocking=False)  # one export being written
    try:
        busy = export(app, "statements")
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) > 0
        assert "LRS_EXPORTS_AT_ONCE" in busy.json["message"]
        assert app.extensions["lrs"].exports.list() == []
    finally:
        slots.release()
    done = export(app, "statements")
    assert done.status_code == 200
    assert done.headers["Content-Length"] == str(len(done.data))
    with pytest.raises(ValueError, match="LRS_EXPORTS_AT_ONCE"):
        make_app(EXPORTS_AT_ONCE=0)
