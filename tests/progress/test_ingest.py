"""Progress kept current as statements are posted, on every backend, and equal to a rebuild."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lrs.testing import failures, race
from lrs.usecases.rebuild import rebuild
from lrs.usecases.storage import open_storage
from tests.support import ADMIN, BACKENDS, basic, make_app, storage_for

XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    storage = storage_for(request.param, tmp_path) or open_storage("memory://")
    yield make_app(storage)
    storage.close()


def statement(n, *, learner=0, content=0, minutes=0.0, verb=EXPERIENCED, **fields):
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": {"mbox": f"mailto:learner{learner}@example.org"},
        "verb": {"id": verb},
        "object": {"id": f"http://example.org/lessons/{content}"},
        "timestamp": (START + timedelta(minutes=minutes)).isoformat(),
        **fields,
    }


def void(n, target):
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": str(uuid.UUID(int=target + 1))},
    }


def post(app, batch):
    response = app.test_client().post("/xAPI/statements", json=batch, headers=XAPI)
    assert response.status_code == 200, response.get_data(as_text=True)


def records(storage):
    return storage.progress.summaries(), storage.progress.sessions(), storage.progress.tries()


def answered(n, *, content=0, question=0, success=True, registration=None, **fields):
    """An answer to a question of lesson ``content``, in a try when given a registration."""
    context = {"contextActivities": {"parent": [{"id": f"http://example.org/lessons/{content}"}]}}
    if registration is not None:
        context["registration"] = registration
    return statement(
        n,
        verb="http://adlnet.gov/expapi/verbs/answered",
        object={
            "id": f"http://example.org/questions/{question}",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "choices": [{"id": "a", "description": {"en-US": "Apples"}}],
            },
        },
        result={"success": success, "response": "a"},
        context=context,
        **fields,
    )


def test_posted_statements_are_in_the_summaries_before_the_answer(app):
    storage = app.extensions["lrs"]
    post(app, [statement(0, minutes=0), statement(1, minutes=2, verb=COMPLETED)])
    (summary,) = storage.progress.summaries()
    assert summary.learner == "mbox:mailto:learner0@example.org"
    assert summary.completion_us is not None and summary.progress == 1.0
    assert summary.time_spent_us == 2 * 60_000_000
    before = records(storage)
    post(app, [statement(1, minutes=2, verb=COMPLETED)])  # the same statement again
    assert records(storage) == before
    put = app.test_client().put(
        f"/xAPI/statements?statementId={uuid.UUID(int=3)}",
        json={k: v for k, v in statement(2, minutes=40).items() if k != "id"},
        headers=XAPI,
    )
    assert put.status_code == 204
    (summary,) = storage.progress.summaries()
    assert summary.sessions == 2
    post(app, [void(9, 1)])  # voids the completion
    (summary,) = storage.progress.summaries()
    assert (summary.completion_us, summary.progress, summary.sessions) == (None, 0.0, 2)


def test_statements_posted_out_of_order_by_concurrent_clients_equal_a_rebuild(app):
    storage = app.extensions["lrs"]
    shuffled = random.Random(7)
    registrations = [None, str(uuid.UUID(int=1000)), str(uuid.UUID(int=1001))]
    statements = [
        statement(
            n,
            learner=shuffled.randrange(3),
            content=shuffled.randrange(3),
            minutes=shuffled.choice([0, 1, 4.9, 5, 6, 20, 60]) + n % 4,
            verb=shuffled.choice([EXPERIENCED, EXPERIENCED, COMPLETED]),
            result={"duration": shuffled.choice(["PT30S", "PT7M"])},
        )
        if n % 3
        else answered(
            n,
            learner=shuffled.randrange(3),
            content=shuffled.randrange(3),
            question=shuffled.randrange(2),
            success=shuffled.random() < 0.5,
            registration=shuffled.choice(registrations),
            minutes=shuffled.choice([0, 1, 4.9, 5, 6, 20, 60]) + n % 4,
        )
        for n in range(48)
    ]
    shuffled.shuffle(statements)
    outcomes = race(*[lambda part=statements[n::8]: post(app, part) for n in range(8)])
    assert failures(outcomes) == []
    post(app, [void(100, 5), void(101, 17), void(102, 9)])  # 9 is an answer
    kept = records(storage)
    assert len(kept[0]) > 3 and len(kept[2]) > 3
    rebuild(storage.progress, storage.statements)
    assert records(storage) == kept


def test_the_rebuild_command_derives_the_records_again(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    app = make_app(storage)
    post(app, [statement(0), statement(1, minutes=1, verb=COMPLETED), statement(2, learner=1)])
    kept = records(storage)
    storage.progress.rebuild([])  # as if the records were lost
    assert records(storage) == ([], [], [])
    storage.close()
    result = CliRunner().invoke(main, ["progress", "rebuild", "--quiet", "--storage", url])
    assert result.exit_code == 0, result.output
    assert "read 3 statements; 2 (learner, content) summaries derived" in result.output
    with open_storage(url) as reopened:
        assert records(reopened) == kept
    refused = CliRunner().invoke(main, ["progress", "rebuild", "--storage", "memory://"])
    assert refused.exit_code == 2
    assert "memory://" in refused.output


def test_the_session_gap_is_a_setting_and_a_bad_one_stops_start_up():
    app = make_app(SESSION_GAP_SECONDS=60)
    post(app, [statement(0, minutes=0), statement(1, minutes=1.5)])
    (summary,) = app.extensions["lrs"].progress.summaries()
    assert summary.sessions == 2  # 90 seconds apart: two sessions with a 60-second gap
    for bad in ("soon", 0, True):
        with pytest.raises(ValueError, match="LRS_SESSION_GAP_SECONDS"):
            make_app(SESSION_GAP_SECONDS=bad)


def test_a_statement_voided_in_its_own_batch_gives_no_progress(app):
    post(app, [statement(0), void(1, 0), statement(2, learner=1)])
    (summary,) = app.extensions["lrs"].progress.summaries()
    assert summary.learner == "mbox:mailto:learner1@example.org"


def test_the_report_command_prints_activity_and_learner_totals(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main
    from lrs.enrollments import CourseRole

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    storage.enrollments.create_user("zoe", {}, actor="test")
    course = "course-v1:Org+Demo+2026"
    storage.enrollments.enroll("zoe", course, actor="test", role=CourseRole.learner)
    block = "block-v1:Org+Demo+2026+type@html+block@intro"
    post(
        make_app(storage),
        [
            {**statement(0, minutes=0), "object": {"id": block}},
            {**statement(1, minutes=3, verb=COMPLETED), "object": {"id": block}},
        ],
    )
    storage.close()
    result = CliRunner().invoke(
        main, ["progress", "report", "--course-key", course, "--storage", url]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr names the store
    assert lines[0] == f"Course {course}: 2 learners, 1 activities"
    assert lines[3].split() == [block, "1", "1", "100%", "3.0", "min"]
    learners = [line.split() for line in lines[6:]]
    assert learners == [  # by agent key: account:... before mbox:...
        ["zoe", "0", "0", "0%", "0.0", "min"],
        ["mbox:mailto:learner0@example.org", "1", "1", "100%", "3.0", "min"],
    ]


def test_the_exam_report_command_prints_the_hardest_questions_first(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    quiz = {
        "id": "http://example.org/lessons/0",
        "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
    }
    post(
        make_app(storage),
        [
            {**statement(0, minutes=0), "object": quiz},
            answered(1, question=0, success=True, minutes=1),
            answered(2, question=1, success=False, minutes=2),
            answered(3, learner=1, question=1, success=True, minutes=2),
            {**statement(4, minutes=3, verb=COMPLETED), "object": quiz},
        ],
    )
    storage.close()
    result = CliRunner().invoke(
        main, ["progress", "exam-report", "--activity", quiz["id"], "--storage", url]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr names the store
    # learner1's statements never say the quiz is an assessment, but answer its
    # questions: the report is of the content, whatever its statements call it.
    assert lines[0] == f"Exam {quiz['id']}: 2 learners, 1 closed, average score none"
    assert [line.split() for line in lines[3:]] == [
        ["http://example.org/questions/1", "2", "2", "50%"],
        ["http://example.org/questions/0", "1", "1", "100%"],
    ]


def test_the_rebuild_command_takes_one_learner_or_one_course(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    post(make_app(storage), [statement(0), statement(1, learner=1), statement(2, content=1)])
    storage.progress.rebuild([])  # every record lost
    storage.close()

    def run(*options):
        return CliRunner().invoke(
            main, ["progress", "rebuild", "--quiet", "--storage", url, *options]
        )

    learner0 = run("--agent", "mbox:mailto:learner0@example.org")
    assert learner0.exit_code == 0, learner0.output
    assert "read 2 statements; 2 (learner, content) summaries derived" in learner0.output
    with open_storage(url) as reopened:
        assert {summary.learner for summary in reopened.progress.summaries()} == {
            "mbox:mailto:learner0@example.org"
        }
    both = run("--agent", "mbox:mailto:x@example.org", "--course-key", "C")
    assert both.exit_code == 2
    assert "at most one of" in both.output


def test_a_course_is_rebuilt_from_its_statements_alone(app):
    storage = app.extensions["lrs"]
    course = "course-v1:Org+Demo+2026"
    in_course = {"id": "block-v1:Org+Demo+2026+type@html+block@intro"}
    post(app, [{**statement(0), "object": in_course}, statement(1)])
    kept = records(storage)
    storage.progress.rebuild([])
    assert rebuild(storage.progress, storage.statements, course=course) == 1
    (summary,) = storage.progress.summaries()
    assert (summary.content, summary.course) == (in_course["id"], course)
    assert rebuild(storage.progress, storage.statements) == 2
    assert records(storage) == kept
    with pytest.raises(ValueError):
        rebuild(storage.progress, storage.statements, learner="x", course=course)


def test_a_statement_without_a_timestamp_counts_at_its_stored_time(app):
    storage = app.extensions["lrs"]
    untimed = {key: value for key, value in statement(0).items() if key != "timestamp"}
    post(app, [untimed])
    record = storage.statements.get(untimed["id"])
    (summary,) = storage.progress.summaries()
    assert summary.first_us == record.stored_us
