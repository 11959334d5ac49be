"""A course with learners, activities, an exam and assignments, for the dashboard's tests."""

import uuid
from datetime import UTC, datetime, timedelta

from lrs.enrollments import CourseRole
from lrs.testing import COURSE, OTHER_COURSE
from tests.support import ADMIN, basic

HOMEPAGE = "https://lms.example.org"
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
QUIZ = {"id": "http://example.org/quiz", "definition": {"type": ASSESSMENT, "name": {"en": "Quiz"}}}
COURSE_ACTIVITY = {
    "id": COURSE,
    "definition": {
        "type": "http://adlnet.gov/expapi/activities/course",
        "name": {"en": "Biology 101"},
    },
}
VIDEO = {
    "id": "http://example.org/videos/cells",
    "definition": {"type": "http://adlnet.gov/expapi/activities/media", "name": {"en": "Cells"}},
}
IN_COURSE = {"contextActivities": {"grouping": [COURSE_ACTIVITY]}}


def block(course, n):
    return course.replace("course-v1:", "block-v1:") + f"+type@html+block@page{n}"


def account(name):
    return {"account": {"homePage": HOMEPAGE, "name": name}}


def statement(n, learner, activity, minutes_ago, **fields):
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": account(learner),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en": "viewed"}},
        "object": {"id": activity, "definition": {"name": {"en": f"Page {activity[-1]}"}}},
        "timestamp": when.isoformat(),
        **fields,
    }


def answer(n, learner, minutes_ago, question, success):
    context = {"contextActivities": {"parent": [QUIZ], "grouping": [COURSE_ACTIVITY]}}
    return statement(
        n,
        learner,
        f"http://example.org/quiz/q{question}",
        minutes_ago,
        object={
            "id": f"http://example.org/quiz/q{question}",
            "definition": {
                "interactionType": "true-false",
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "name": {"en": f"Question {question}"},
                "description": {"en": f"Is statement {question} true?"},
            },
        },
        verb={"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en": "answered"}},
        result={"success": success, "response": str(success).lower()},
        context=context,
    )


def seed(app):
    """Users, enrollments, statements, an exam and an assignment: what the pages show."""
    storage = app.extensions["lrs"]
    enrollments = storage.enrollments
    for name, full_name in (("ada", "Ada Lovelace"), ("bob", ""), ("cy", "Cy Coach"), ("dan", "")):
        enrollments.create_user(name, {"full_name": full_name}, actor="test")
    enrollments.enroll("ada", COURSE, actor="test")
    enrollments.enroll("bob", COURSE, actor="test")
    enrollments.enroll("cy", COURSE, role=CourseRole.coach, actor="test")
    enrollments.enroll("dan", OTHER_COURSE, actor="test")
    batch = [
        statement(0, "ada", block(COURSE, 1), 50),
        statement(
            1,
            "ada",
            block(COURSE, 1),
            45,
            verb={"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
            result={"completion": True, "score": {"scaled": 0.92}, "duration": "PT3M"},
        ),
        statement(
            2, "ada", block(COURSE, 2), 40, result={"progress": 0.5} and {"duration": "PT1M"}
        ),
        statement(3, "bob", block(COURSE, 1), 30),
        statement(4, "dan", block(OTHER_COURSE, 1), 20),
        answer(5, "ada", 15, 1, True),
        answer(6, "ada", 14, 2, False),
        answer(7, "bob", 10, 1, False),
        answer(8, "bob", 9, 2, False),
        # bob fails the quiz: completed, 20%, failed; the grid must not say done.
        statement(
            9,
            "bob",
            QUIZ["id"],
            8,
            object=QUIZ,
            verb={"id": "http://adlnet.gov/expapi/verbs/failed", "display": {"en": "failed"}},
            result={"score": {"scaled": 0.2}, "success": False, "completion": True},
            context=IN_COURSE,
        ),
        # A video watched half-way, the Video profile's progress.
        statement(
            10,
            "ada",
            VIDEO["id"],
            60,
            object=VIDEO,
            result={"extensions": {"https://w3id.org/xapi/video/extensions/progress": 0.5}},
            context=IN_COURSE,
        ),
    ]
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.json
    assignments = app.extensions["lrs-assignments"]
    assignments.assign(block(COURSE, 2), username="bob", course_key=COURSE, actor="test")
    assignments.assign(COURSE, email="newcomer@example.org", actor="test", note="welcome")
    return app
