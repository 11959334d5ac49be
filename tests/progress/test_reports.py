"""The course and exam reports from records: order, verdicts, who needs help."""

from lrs.progress.derive import ContentSummary
from lrs.progress.tries import Attempt, Interaction, Try
from lrs.usecases.reports import course_report, exam_report, is_assessed

QUIZ = "http://example.org/quiz"


def summary(learner, content, first_us, *, kind="", score=None, success=None):
    return ContentSummary(
        learner, content, kind, "C", first_us, first_us, None, 0, 0.0, 1, None, score, success
    )


def attempt(learner, item, *answers):
    history = tuple(
        Interaction(n, f"s{n}", correct, "r", readable, False)
        for n, (correct, readable) in enumerate(answers)
    )
    last = answers[-1]
    return Attempt(learner, QUIZ, "", item, 0, len(answers), last[0], "r", last[1], False, history)


def tried(learner, *attempts, mastered=False):
    return Try(learner, QUIZ, "", 0, 10, 10, (3, 5), 10 if mastered else None, attempts)


def test_activities_come_in_the_order_learners_first_met_them():
    report = course_report(
        "C",
        [
            summary("a", "http://x.org/z-intro", 100),
            summary("a", "http://x.org/a-final", 300, score=0.5),
            summary("b", "http://x.org/m-middle", 200),
            summary("b", "http://x.org/z-intro", 50),
        ],
    )
    assert [item.activity.rsplit("/", 1)[1] for item in report.activities] == [
        "z-intro",
        "m-middle",
        "a-final",
    ]
    assert [item.assessed for item in report.activities] == [False, False, True]


def test_assessed_kinds():
    assert is_assessed("http://adlnet.gov/expapi/activities/assessment")
    assert is_assessed("https://example.org/types/Quiz/")
    assert not is_assessed("http://adlnet.gov/expapi/activities/lesson") and not is_assessed("")


def test_wrong_answers_by_question_and_who_needs_help():
    report = exam_report(
        QUIZ,
        [summary("ann", QUIZ, 1), summary("ben", QUIZ, 1), summary("cat", QUIZ, 1, success=False)],
        [
            # ann: three wrong answers (one retried) in a try not mastered: needs help.
            tried(
                "ann",
                attempt("ann", "q1", (0.0, "red"), (0.0, "blue")),
                attempt("ann", "q2", (0.0, "2")),
            ),
            # ben: as many wrong, but the try was mastered.
            tried(
                "ben",
                attempt("ben", "q1", (0.0, "red"), (0.5, "red, green")),
                attempt("ben", "q2", (0.0, "3")),
                mastered=True,
            ),
        ],
        enrolled=["ann", "ben", "cat", "dee"],
    )
    assert report.needs_help == {"ann", "cat"}  # cat failed it
    assert report.not_started == ["dee"]
    q1 = next(question for question in report.questions if question.item == "q1")
    assert [(wrong.learner, wrong.readable, wrong.correct) for wrong in q1.wrong] == [
        ("ann", "blue", 0.0),
        ("ben", "red, green", 0.5),
    ]


def test_names_read_at_once_are_those_looked_up_one_by_one():
    from lrs.enrollments import MemoryEnrollmentStore
    from lrs.usecases.names import Names
    from lrs.xapi.activities import MemoryActivityStore
    from lrs.xapi.agents import AccountAgents

    activities = MemoryActivityStore()
    activities.merge(
        {
            QUIZ: {
                "name": {"en": "Quiz one"},
                "type": "http://adlnet.gov/expapi/activities/assessment",
            },
            "http://example.org/q1": {"description": {"en": "Why?"}},
        }
    )
    wanted = [QUIZ, "http://example.org/q1", "http://example.org/unnamed"]

    def names():
        return Names(activities, MemoryEnrollmentStore(), AccountAgents("http://lrs.example.org"))

    alone, read = names(), names().read(wanted)
    activities.merge({QUIZ: {"name": {"en": "renamed later"}}})  # read already: not seen
    assert [read.activity(item) for item in wanted] == ["Quiz one", "Why?", "unnamed"]
    assert [read.kind(item) for item in wanted] == ["exam", "", ""]
    assert [alone.activity(item) for item in wanted] == ["renamed later", "Why?", "unnamed"]
