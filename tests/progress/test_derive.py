"""What a statement says about progress: the rules of docs/progress.md, one by one."""

import isodate
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs.progress.derive import (
    MAX_DURATION_SECONDS,
    PROGRESS_EXTENSION,
    ContentSession,
    duration_us,
    event_of,
    session_from,
    session_of,
)
from lrs.progress.derive import (
    VIDEO_PROGRESS_EXTENSION as VIDEO,
)
from lrs.xapi.courses import COURSE_TYPE, course_of

STORED_US = 1_800_000_000_000_000
ID = "6f0d8a6e-2a5b-4c43-9a7e-0c1a1f1d2e3f"


def statement(**fields):
    return {
        "actor": {"mbox": "mailto:ada@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.org/lesson"},
        "timestamp": "2026-01-02T03:04:05.250+01:00",
        **fields,
    }


def test_an_event_names_the_learner_content_and_time_of_the_statement():
    found = event_of(statement(), ID, STORED_US)
    assert found is not None
    assert (found.learner, found.content, found.statement_id) == (
        "mbox:mailto:ada@example.org",
        "http://example.org/lesson",
        ID,
    )
    # 2026-01-02T02:04:05.25Z, when it happened, not when it was stored.
    assert found.time_us == 1_767_319_445_250_000
    assert (found.duration_us, found.progress, found.completes, found.kind, found.course) == (
        0,
        0.0,
        False,
        "",
        "",
    )


def test_without_a_timestamp_the_stored_time_is_the_time():
    data = statement()
    del data["timestamp"]
    found = event_of(data, ID, STORED_US)
    assert found is not None and found.time_us == STORED_US


@pytest.mark.parametrize(
    ("result", "verb", "progress", "completes"),
    [
        ({"extensions": {PROGRESS_EXTENSION: 40}}, "experienced", 0.4, False),
        ({"extensions": {PROGRESS_EXTENSION: 250}}, "experienced", 1.0, False),
        ({"extensions": {PROGRESS_EXTENSION: -3}}, "experienced", 0.0, False),
        ({"extensions": {PROGRESS_EXTENSION: "40"}}, "experienced", 0.0, False),
        ({"completion": True, "extensions": {PROGRESS_EXTENSION: 40}}, "experienced", 1.0, True),
        ({"completion": False}, "completed", 1.0, True),
        ({}, "passed", 1.0, True),
        ({}, "mastered", 1.0, True),
        ({}, "failed", 0.0, False),
        # The xAPI Video profile's progress, 0 to 1; cmi5's wins when both are there.
        ({"extensions": {VIDEO: 0.25}}, "experienced", 0.25, False),
        ({"extensions": {VIDEO: 1.5}}, "experienced", 1.0, False),
        ({"extensions": {VIDEO: 0.9, PROGRESS_EXTENSION: 40}}, "experienced", 0.4, False),
        # A problem answered on its own: right is done, wrong is not.
        ({"success": True, "score": {"scaled": 1.0}}, "answered", 1.0, True),
        ({"success": False, "score": {"scaled": 0.0}}, "answered", 0.0, False),
    ],
)
def test_progress_is_the_cmi5_extension_scaled_and_1_on_completion(
    result, verb, progress, completes
):
    data = statement(verb={"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, result=result)
    found = event_of(data, ID, STORED_US)
    assert found is not None
    assert (found.progress, found.completes) == (progress, completes)


@pytest.mark.parametrize(
    ("duration", "microseconds"),
    [
        ("PT1M30.5S", 90_500_000),
        ("P1DT1H", 90_000_000_000),
        ("P1M", 30 * 86_400_000_000),  # a month counts 30 days
        ("P1Y", 365 * 86_400_000_000),  # and a year 365
        ("PT0,5S", 500_000),
        ("not a duration", 0),
    ],
)
def test_durations_are_read_from_the_result(duration, microseconds):
    found = event_of(statement(result={"duration": duration}), ID, STORED_US)
    assert found is not None and found.duration_us == microseconds


@given(
    weeks=st.none() | st.integers(0, 60),
    days=st.none() | st.integers(0, 400),
    hours=st.none() | st.integers(0, 50),
    minutes=st.none() | st.integers(0, 200),
    seconds=st.none() | st.decimals(0, 5000, places=2),
)
def test_durations_without_years_or_months_are_read_as_isodate_reads_them(
    weeks, days, hours, minutes, seconds
):
    date = f"{weeks}W" if weeks is not None else f"{days}D" if days is not None else ""
    time = "".join(
        f"{value}{unit}"
        for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S"))
        if value is not None
    )
    text = f"P{date}" + (f"T{time}" if time else "")
    if text == "P":
        return
    expected = isodate.parse_duration(text)
    # At most a year (MAX_DURATION_SECONDS): longer ones count as a year.
    seconds_read = min(expected.total_seconds(), MAX_DURATION_SECONDS)
    assert duration_us(text) == round(seconds_read * 1_000_000)


def test_a_question_counts_for_the_exercise_it_is_in():
    question = {
        "id": "http://example.org/quiz/q1",
        "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction"},
    }
    quiz = {
        "id": "http://example.org/quiz",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
    }
    found = event_of(
        statement(object=question, context={"contextActivities": {"parent": quiz}}),
        ID,
        STORED_US,
    )
    assert found is not None
    assert (found.content, found.kind) == (quiz["id"], quiz["definition"]["type"])
    # An answer counts as time in the quiz, never as its completion or score.
    answered = event_of(
        statement(
            object=question,
            verb={"id": "http://adlnet.gov/expapi/verbs/completed"},
            result={"completion": True, "score": {"scaled": 1.0}},
            context={"contextActivities": {"parent": quiz}},
        ),
        ID,
        STORED_US,
    )
    assert answered is not None
    assert (answered.completes, answered.progress, answered.closes, answered.score) == (
        False,
        0.0,
        False,
        None,
    )
    # Without a parent, the question is the content.
    alone = event_of(statement(object=question), ID, STORED_US)
    assert alone is not None and alone.content == question["id"]


def test_the_course_comes_from_an_edx_block_key_or_a_course_activity():
    block = statement(object={"id": "block-v1:Org+Demo+2026+type@problem+block@p1"})
    assert course_of(block) == "course-v1:Org+Demo+2026"
    course = {"id": "http://example.org/course", "definition": {"type": COURSE_TYPE}}
    module = {"id": "http://example.org/module"}
    in_course = statement(context={"contextActivities": {"parent": [module], "grouping": [course]}})
    assert course_of(in_course) == "http://example.org/course"
    assert course_of(statement(context={"contextActivities": {"grouping": [module]}})) == ""


@pytest.mark.parametrize(
    "fields",
    [
        {"object": {"objectType": "StatementRef", "id": ID}},  # voiding and other refs
        {"object": {"objectType": "Agent", "mbox": "mailto:b@example.org"}},
        {
            "actor": {
                "objectType": "Group",
                "mbox": "mailto:team@example.org",
                "member": [{"mbox": "mailto:ada@example.org"}],
            }
        },
    ],
)
def test_statements_not_by_an_agent_about_an_activity_give_no_event(fields):
    assert event_of(statement(**fields), ID, STORED_US) is None


@pytest.mark.parametrize(
    ("verb", "closes", "completes"),
    [
        ("passed", True, True),
        ("failed", True, False),
        ("terminated", True, False),
        ("completed", True, True),
        ("mastered", False, True),
        ("answered", False, False),
    ],
)
def test_closing_verbs_and_scores_of_the_content_itself(verb, closes, completes):
    found = event_of(
        statement(
            verb={"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
            result={"score": {"scaled": 0.75, "raw": 3}},
        ),
        ID,
        STORED_US,
    )
    assert found is not None
    assert (found.closes, found.completes, found.score) == (closes, completes, 0.75)


@pytest.mark.parametrize(
    ("verb", "result", "success"),
    [
        ("passed", {}, True),
        ("failed", {}, False),
        ("completed", {"success": False, "score": {"scaled": 0.2}}, False),
        ("completed", {"completion": True}, None),
        ("experienced", {"success": True}, True),
        ("failed", {"success": True}, True),  # the result says more than the verb
    ],
)
def test_passed_or_failed_from_the_result_else_the_verb(verb, result, success):
    found = event_of(
        statement(verb={"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, result=result),
        ID,
        STORED_US,
    )
    assert found is not None and found.success is success


def test_a_question_in_an_exercise_neither_passes_nor_fails_it():
    found = event_of(
        statement(
            object={
                "id": "http://example.org/quiz/q1",
                "definition": {"interactionType": "true-false"},
            },
            result={"success": False},
            context={"contextActivities": {"parent": [{"id": "http://example.org/quiz"}]}},
        ),
        ID,
        STORED_US,
    )
    assert found is not None
    assert (found.content, found.success) == ("http://example.org/quiz", None)


def test_a_session_kept_before_the_verdict_existed_reads_with_none():
    found = event_of(statement(result={"success": True}), ID, STORED_US)
    assert found is not None
    session = session_of(found)
    assert session.success is True
    older = session_from(list(session)[:-2])  # as JSON kept it before
    assert older == session._replace(**ContentSession._field_defaults)
    assert older.success is None
