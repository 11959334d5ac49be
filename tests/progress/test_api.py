"""Progress over HTTP: who reads what, filters, pages, bad input."""

import json
import uuid

import pytest

from lrs.credentials.base import Role
from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

HOMEPAGE = "https://lms.example.org"
SUMMARIES = "/api/v1/progress/summaries"
SESSIONS = "/api/v1/progress/sessions"
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}


def account(name):
    return {"account": {"homePage": HOMEPAGE, "name": name}}


def statement(n, actor, activity, minute=0, **fields):
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": activity},
        "timestamp": f"2026-03-02T09:{minute:02d}:00Z",
        **fields,
    }


def block(course, n):
    # block-v1 keys of the course, so that the course is read from them.
    return course.replace("course-v1:", "block-v1:") + f"+type@html+block@b{n}"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    app = make_app(storage_for(request.param, tmp_path), ACCOUNT_HOMEPAGE=HOMEPAGE)
    storage = app.extensions["lrs"]
    for name in ("ada", "bob", "cy"):
        storage.enrollments.create_user(name, {}, actor="test")
    storage.enrollments.enroll("ada", COURSE, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("bob", COURSE, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("cy", COURSE, actor="test", role=CourseRole.coach)
    batch = [
        statement(0, account("ada"), block(COURSE, 1), 0),
        statement(1, account("ada"), block(COURSE, 1), 3, result={"completion": True}),
        statement(2, account("bob"), block(COURSE, 1), 1),
        statement(3, account("ada"), block(OTHER_COURSE, 1), 2),
        statement(4, {"mbox": "mailto:guest@example.org"}, "http://example.org/open", 5),
        # dan is not enrolled: the course's coach does not see him.
        statement(5, account("dan"), block(COURSE, 2), 6),
    ]
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    return app


def credential(app, role, username=None):
    found, secret = app.extensions["lrs"].credentials.create(role, username=username)
    return basic(found.key, secret)


def read(app, path, headers, **query):
    return app.test_client().get(path, query_string=query, headers=headers)


def pairs(response):
    assert response.status_code == 200, response.json
    return [(item["username"] or item["agent"], item["activity"]) for item in response.json]


def test_admins_read_every_summary_with_its_fields(app):
    response = read(app, SUMMARIES, basic(*ADMIN))
    assert pairs(response) == [
        ("ada", block(COURSE, 1)),
        ("ada", block(OTHER_COURSE, 1)),
        ("bob", block(COURSE, 1)),
        ("dan", block(COURSE, 2)),
        ("mbox:mailto:guest@example.org", "http://example.org/open"),
    ]
    ada = response.json[0]
    assert ada["agent"] == f"account:{HOMEPAGE}|ada"
    assert ada["course_key"] == COURSE
    assert (ada["progress"], ada["time_spent"], ada["sessions"]) == (1.0, 180.0, 1)
    assert ada["completed"].startswith("2026-03-02T09:03:00")
    guest = read(app, SUMMARIES, basic(*ADMIN), agent="mbox:mailto:guest@example.org")
    assert pairs(guest) == [("mbox:mailto:guest@example.org", "http://example.org/open")]
    (session,) = read(app, SESSIONS, basic(*ADMIN), username="ada", course_key=COURSE).json
    assert session["completed"].startswith("2026-03-02T09:03:00")
    assert session["time_spent"] == 180.0


def test_filters_and_pages(app):
    admin = basic(*ADMIN)
    assert pairs(read(app, SUMMARIES, admin, course_key=OTHER_COURSE)) == [
        ("ada", block(OTHER_COURSE, 1))
    ]
    assert pairs(read(app, SUMMARIES, admin, course_key=COURSE))[-1] == ("dan", block(COURSE, 2))
    assert pairs(read(app, SUMMARIES, admin, activity=block(COURSE, 1))) == [
        ("ada", block(COURSE, 1)),
        ("bob", block(COURSE, 1)),
    ]
    first = read(app, SUMMARIES, admin, page_size=3)
    assert len(first.json) == 3
    assert json.loads(first.headers["X-Pagination"])["next_page"] == 2
    assert len(read(app, SUMMARIES, admin, page_size=3, page=2).json) == 2
    assert read(app, SUMMARIES, admin, course_key="course-v1:No+Such+Course").json == []


def test_learners_read_their_own(app):
    ada = credential(app, Role.learner, "ada")
    assert pairs(read(app, SUMMARIES, ada)) == [
        ("ada", block(COURSE, 1)),
        ("ada", block(OTHER_COURSE, 1)),
    ]
    assert read(app, SUMMARIES, ada, username="ada").status_code == 200
    assert read(app, SUMMARIES, ada, username="bob").status_code == 403
    assert read(app, SESSIONS, ada, agent="mbox:mailto:guest@example.org").status_code == 403


def test_coaches_read_the_learners_of_a_course_they_coach(app):
    cy = credential(app, Role.coach, "cy")
    found = pairs(read(app, SUMMARIES, cy, course_key=COURSE))
    assert found == [("ada", block(COURSE, 1)), ("bob", block(COURSE, 1))]
    assert pairs(read(app, SESSIONS, cy, course_key=COURSE, username="bob")) == [
        ("bob", block(COURSE, 1))
    ]
    assert read(app, SUMMARIES, cy).status_code == 403
    assert read(app, SUMMARIES, cy, course_key=OTHER_COURSE).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"username": "no spaces allowed"},
        {"page": 0},
        {"page_size": 5000},
        {"username": "ada", "agent": "mbox:mailto:guest@example.org"},
        {"activity": ""},
        {"colour": "blue"},
        {"since": "yesterday"},
        {"since": "2026-03-02T10:00:00Z", "until": "2026-03-02T09:00:00Z"},
    ],
)
def test_bad_queries_are_400_and_change_nothing(app, query):
    before = read(app, SUMMARIES, basic(*ADMIN)).json
    response = read(app, SUMMARIES, basic(*ADMIN), **query)
    assert response.status_code == 400, response.json
    assert response.json["message"]
    assert read(app, SUMMARIES, basic(*ADMIN)).json == before


REPORT = f"/api/v1/progress/courses/{COURSE}/report"


def test_the_course_report_crosses_learners_and_activities(app):
    response = read(app, REPORT, basic(*ADMIN))
    assert response.status_code == 200, response.json
    report = response.json
    assert report["course_key"] == COURSE
    first, second = report["activities"]
    assert (first["activity"], first["started"], first["completed"]) == (block(COURSE, 1), 2, 1)
    assert first["average_progress"] == 0.5  # ada completed it, bob did not
    assert first["average_time_spent"] == 90.0  # 180 s and 0 s
    assert (second["activity"], second["started"]) == (block(COURSE, 2), 1)
    rows = {row["username"]: row for row in report["learners"]}
    # Enrolled learners have a row, and admins see dan (not enrolled) too;
    # cy is a coach of the course, not a learner of it.
    assert sorted(rows) == ["ada", "bob", "dan"]
    assert rows["ada"]["completed"] == 1
    assert [cell["activity"] for cell in rows["ada"]["cells"]] == [block(COURSE, 1)]
    assert rows["bob"]["cells"][0]["completed"] is None
    # Names beside the identifiers: none given here, so the key, the block, the username.
    assert report["name"] == COURSE
    assert first["name"] == block(COURSE, 1).rsplit("@", 1)[1]
    assert rows["ada"]["full_name"] == "ada"
    assert (rows["ada"]["cells"][0]["score"], rows["ada"]["cells"][0]["passed"]) == (None, None)


def test_coaches_see_the_report_of_their_course_only_with_its_learners(app):
    cy = credential(app, Role.coach, "cy")
    report = read(app, REPORT, cy).json
    assert [row["username"] for row in report["learners"]] == ["ada", "bob"]
    assert [totals["started"] for totals in report["activities"]] == [2]
    other = f"/api/v1/progress/courses/{OTHER_COURSE}/report"
    assert read(app, other, cy).status_code == 403
    assert read(app, REPORT, credential(app, Role.learner, "ada")).status_code == 403


def test_a_course_without_progress_lists_its_learners_and_pages_them(app):
    storage = app.extensions["lrs"]
    course = "course-v1:Org+Empty+2026"
    storage.enrollments.enroll("ada", course, actor="test", role=CourseRole.learner)
    storage.enrollments.enroll("bob", course, actor="test", role=CourseRole.learner)
    response = read(app, f"/api/v1/progress/courses/{course}/report", basic(*ADMIN), page_size=1)
    assert response.json["activities"] == []
    assert [row["username"] for row in response.json["learners"]] == ["ada"]
    assert json.loads(response.headers["X-Pagination"])["next_page"] == 2
    bad = read(app, f"/api/v1/progress/courses/{course}/report", basic(*ADMIN), page=0)
    assert bad.status_code == 400
    unknown = read(app, "/api/v1/progress/courses/course-v1:No+Such+Run/report", basic(*ADMIN))
    assert unknown.status_code == 404 and "course-v1:No+Such+Run" in unknown.json["message"]


USER_SESSIONS = "/api/v1/progress/user-sessions"


def test_user_sessions_join_a_learners_visits_across_contents(app):
    # ada: 09:00 and 09:03 in COURSE, 09:02 in OTHER_COURSE: one session.
    (session,) = read(app, USER_SESSIONS, basic(*ADMIN), username="ada").json
    assert session["start"].startswith("2026-03-02T09:00:00")
    assert session["end"].startswith("2026-03-02T09:03:00")
    assert session["activities"] == sorted([block(COURSE, 1), block(OTHER_COURSE, 1)])
    assert session["course_keys"] == sorted([COURSE, OTHER_COURSE])
    everyone = read(app, USER_SESSIONS, basic(*ADMIN)).json
    assert [item["username"] or item["agent"] for item in everyone] == [
        "ada",
        "bob",
        "dan",
        "mbox:mailto:guest@example.org",
    ]
    cy = credential(app, Role.coach, "cy")
    coached = read(app, USER_SESSIONS, cy, course_key=COURSE).json
    assert [item["username"] for item in coached] == ["ada", "bob"]
    assert read(app, USER_SESSIONS, cy).status_code == 403
    touched = read(app, USER_SESSIONS, basic(*ADMIN), activity=block(COURSE, 1)).json
    assert [item["username"] for item in touched] == ["ada", "bob"]


def test_platforms_are_the_device_information_of_a_user_session(app):
    post_one = app.test_client().post(
        "/xAPI/statements",
        json=[
            statement(
                20,
                account("eve"),
                "http://example.org/x",
                10,
                context={"platform": "Kolibri tablet"},
            )
        ],
        headers=XAPI,
    )
    assert post_one.status_code == 200
    (session,) = read(app, USER_SESSIONS, basic(*ADMIN), username="eve").json
    assert session["platforms"] == ["Kolibri tablet"]


def test_exams_are_the_assessments_with_their_close_and_score(app):
    quiz = {
        "id": "http://example.org/quiz",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
    }
    question = {
        "id": "http://example.org/quiz/q1",
        "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction"},
    }
    in_quiz = {"contextActivities": {"parent": [quiz]}}
    batch = [
        statement(30, account("ada"), "x", 20, object=quiz),
        statement(
            31,
            account("ada"),
            "x",
            21,
            object=question,
            verb={"id": "http://adlnet.gov/expapi/verbs/answered"},
            result={"success": True, "score": {"scaled": 1.0}},
            context=in_quiz,
        ),
        statement(
            32,
            account("ada"),
            "x",
            23,
            object=quiz,
            verb={"id": "http://adlnet.gov/expapi/verbs/failed"},
            result={"score": {"scaled": 0.4}},
        ),
    ]
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    (exam,) = read(app, "/api/v1/progress/exams", basic(*ADMIN)).json
    assert (exam["username"], exam["activity"]) == ("ada", quiz["id"])
    assert exam["first"].startswith("2026-03-02T09:20:00")
    assert exam["closed"].startswith("2026-03-02T09:23:00")
    assert (exam["completed"], exam["score"], exam["progress"]) == (None, 0.4, 0.0)
    assert exam["time_spent"] == 180.0  # the question's answer counts as time in the quiz
    assert read(app, "/api/v1/progress/exams", basic(*ADMIN), username="bob").json == []
    mine = read(app, "/api/v1/progress/exams", credential(app, Role.learner, "ada")).json
    assert [item["activity"] for item in mine] == [quiz["id"]]
    (attempt,) = exam["attempts"]
    assert (attempt["item"], attempt["correct"], attempt["registration"]) == (
        question["id"],
        1.0,
        "",
    )


def test_time_filters_keep_the_records_that_overlap_the_range(app):
    admin = basic(*ADMIN)
    # ada's summary of block 1 runs from 09:00 to 09:03, bob's is at 09:01.
    assert pairs(
        read(app, SUMMARIES, admin, activity=block(COURSE, 1), since="2026-03-02T09:02:00Z")
    ) == [("ada", block(COURSE, 1))]
    assert pairs(read(app, SUMMARIES, admin, until="2026-03-02T09:00:30Z")) == [
        ("ada", block(COURSE, 1))
    ]
    # Without an offset, a time is in UTC.
    assert pairs(read(app, SESSIONS, admin, since="2026-03-02T09:05:30")) == [
        ("dan", block(COURSE, 2))
    ]
    found = read(app, "/api/v1/progress/user-sessions", admin, since="2026-03-02T09:05:30Z")
    assert [item["username"] for item in found.json] == ["dan"]


QUIZ = {
    "id": "http://example.org/quiz",
    "definition": {
        "type": "http://adlnet.gov/expapi/activities/assessment",
        "extensions": {"urn:lrs:xapi:extension:mastery-criterion": {"m": 2, "n": 2}},
    },
}


def answer(n, learner, minute, question, success, registration=None):
    course = {"id": COURSE, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}
    context = {"contextActivities": {"parent": [QUIZ], "grouping": [course]}}
    if registration:
        context["registration"] = registration
    return statement(
        n,
        account(learner),
        "x",
        minute,
        object={
            "id": f"http://example.org/quiz/q{question}",
            "definition": {
                "interactionType": "true-false",
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            },
        },
        verb={"id": "http://adlnet.gov/expapi/verbs/answered"},
        result={"success": success, "response": str(success).lower()},
        context=context,
    )


@pytest.fixture
def quizzed(app):
    first, second = str(uuid.UUID(int=500)), str(uuid.UUID(int=501))
    batch = [
        answer(40, "ada", 20, 1, False, first),
        answer(41, "ada", 21, 1, True, first),
        answer(42, "ada", 22, 2, True, first),
        answer(43, "ada", 40, 1, True, second),
        answer(44, "bob", 20, 1, False),
        answer(45, "bob", 21, 2, False),
        answer(46, "dan", 20, 2, True),
    ]
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    return app


def test_tries_and_attempts_of_a_quiz(quizzed):
    admin = basic(*ADMIN)
    tries = read(quizzed, "/api/v1/progress/tries", admin, username="ada").json
    assert [item["registration"] for item in tries] == [
        str(uuid.UUID(int=500)),
        str(uuid.UUID(int=501)),
    ]
    first = tries[0]
    assert first["criterion"] == {"m": 2, "n": 2}
    assert first["completed"].startswith("2026-03-02T09:22:00")  # q1 right, then q2 right
    assert first["time_spent"] == 120.0
    assert [(a["item"][-2:], a["correct"]) for a in first["attempts"]] == [("q1", 1.0), ("q2", 1.0)]
    assert tries[1]["completed"] is None  # one right answer of the two needed
    attempts = read(quizzed, "/api/v1/progress/attempts", admin, username="ada").json
    retried = attempts[0]
    assert [step["response"] for step in retried["history"]] == ["false", "true"]
    assert [step["readable"] for step in retried["history"]] == ["false", "true"]
    assert retried["history"][0]["statement_id"] == str(uuid.UUID(int=41))
    later = read(quizzed, "/api/v1/progress/attempts", admin, since="2026-03-02T09:30:00Z").json
    assert [(a["username"], a["registration"]) for a in later] == [("ada", str(uuid.UUID(int=501)))]
    # A learner reads their own; a coach those of the course's enrolled learners.
    mine = read(quizzed, "/api/v1/progress/tries", credential(quizzed, Role.learner, "bob")).json
    assert [(item["username"], item["registration"]) for item in mine] == [("bob", "")]
    cy = credential(quizzed, Role.coach, "cy")
    coached = read(quizzed, "/api/v1/progress/attempts", cy, course_key=COURSE).json
    assert {item["username"] for item in coached} == {"ada", "bob"}


def test_the_exam_report_lists_the_hardest_questions_first(quizzed):
    path = "/api/v1/progress/exams/report"
    report = read(quizzed, path, basic(*ADMIN), activity=QUIZ["id"])
    assert report.status_code == 200, report.json
    assert report.json["activity"] == QUIZ["id"]
    # q1: ada's first try right (at its latest answer), her second right, bob wrong.
    # q2: ada right, bob wrong, dan right.
    # Tied: by id.
    assert [(q["item"][-2:], q["attempts"], q["correct"]) for q in report.json["questions"]] == [
        ("q1", 3, 2 / 3),
        ("q2", 3, 2 / 3),
    ]
    # The coach's report counts the enrolled learners only: dan is not.
    cy = credential(quizzed, Role.coach, "cy")
    coached = read(quizzed, path, cy, activity=QUIZ["id"], course_key=COURSE).json
    assert [(q["item"][-2:], q["attempts"], q["correct"]) for q in coached["questions"]] == [
        ("q2", 2, 0.5),
        ("q1", 3, 2 / 3),
    ]
    assert coached["learners"] == 2
    # Who got each question wrong, in words; the coach sees their learners only.
    wrong = {q["item"][-2:]: q["wrong"] for q in report.json["questions"]}
    assert [(item["username"], item["correct"]) for item in wrong["q2"]] == [("bob", 0.0)]
    assert [item["username"] for item in wrong["q1"]] == ["bob"]
    assert all(item["readable"] for item in wrong["q1"] + wrong["q2"])
    assert report.json["needs_help"] == []  # two wrong answers: not yet
    assert read(quizzed, path, cy, activity=QUIZ["id"]).status_code == 403
    assert read(quizzed, path, basic(*ADMIN)).status_code == 400  # which exam?
    unknown = read(quizzed, path, basic(*ADMIN), activity="http://example.org/no-such-quiz")
    assert unknown.status_code == 404 and "no-such-quiz" in unknown.json["message"]


def test_admins_rebuild_progress_over_http(quizzed):
    admin = basic(*ADMIN)
    before = read(quizzed, "/api/v1/progress/tries", admin).json
    quizzed.extensions["lrs"].progress.rebuild([])
    assert read(quizzed, "/api/v1/progress/tries", admin).json == []
    client = quizzed.test_client()
    response = client.post("/api/v1/progress/rebuild", json={"username": "ada"}, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["keys"] == 3  # two blocks and the quiz
    response = client.post("/api/v1/progress/rebuild", json={}, headers=admin)
    assert response.json["statements"] == 13  # 6 in every test, and 7 answers
    assert read(quizzed, "/api/v1/progress/tries", admin).json == before
    refused = client.post(
        "/api/v1/progress/rebuild", json={}, headers=credential(quizzed, Role.coach, "cy")
    )
    assert refused.status_code == 403
    both = client.post(
        "/api/v1/progress/rebuild", json={"username": "ada", "course_key": COURSE}, headers=admin
    )
    assert both.status_code == 400 and "course_key" in both.json["message"]
