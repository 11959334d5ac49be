"""The contract of assignment stores: the lifecycle table, one active per learner, logs."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lrs.assignments.base import (
    ACTIVE,
    MOVES,
    AssignmentStore,
    Filters,
    State,
    check_state,
)
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput
from lrs.testing.helpers import COURSE, failures, race

ACTIVITY = "http://example.org/activities/quiz-1"


def _in(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _path_to(store: AssignmentStore, state: State, username: str = "ada") -> str:
    """An assignment of ``username`` brought to ``state`` by allowed moves; its id."""
    made = store.create(ACTIVITY, username=username, actor="coach")
    paths = {
        State.allocated: [],
        State.accepted: [State.accepted],
        State.completed: [State.accepted, State.completed],
        State.errored: [State.errored],
        State.cancelled: [State.cancelled],
        State.expired: [State.expired],
        State.reversed: [State.accepted, State.completed, State.reversed],
    }
    for step in paths[state]:
        store.move(made.id, step, actor="test")
    return made.id


class AssignmentStoreContract:
    """The behaviour every assignment store must have.

    Subclasses supply an ``assignments`` fixture returning an empty store.
    """

    def test_an_assignment_is_created_read_and_found(self, assignments: AssignmentStore) -> None:
        due = _in(7)
        made = assignments.create(
            COURSE, username="ada", due=due, note="before the exam", actor="coach-key"
        )
        assert made.state == State.allocated and made.course_key == COURSE
        assert assignments.get(made.id) == made
        other = assignments.create(
            ACTIVITY, email="New.Person@Example.org", course_key=COURSE, actor="coach-key"
        )
        assert other.email == "new.person@example.org" and other.learner.startswith("email:")
        assert assignments.find() == [made, other]
        assert assignments.find(Filters(content=ACTIVITY)) == [other]
        assert assignments.find(Filters(username="ada")) == [made]
        assert assignments.find(Filters(usernames=frozenset({"ada", "bob"}))) == [made]
        assert assignments.find(Filters(email="new.person@EXAMPLE.org")) == [other]
        assert assignments.find(Filters(course_key=COURSE)) == [made, other]
        assert assignments.find(Filters(due_before=_in(8))) == [made]
        assert assignments.find(Filters(due_before=_in(6))) == []
        assert assignments.find(Filters(states=frozenset({State.accepted}))) == []
        assert assignments.counts(COURSE)["allocated"] == 2
        with pytest.raises(DoesNotExist):
            assignments.get("nope")

    def test_every_move_of_the_table_and_no_other(self, assignments: AssignmentStore) -> None:
        for number, (start, allowed) in enumerate(MOVES.items()):
            for target in State:
                learner = f"learner-{number}-{target}"
                assignment_id = _path_to(assignments, start, learner)
                if target in allowed:
                    moved = assignments.move(assignment_id, target, actor="test", reason="why")
                    assert moved.state == target
                    assert assignments.last_actions(assignment_id)[str(target)].reason == "why"
                else:
                    with pytest.raises(Conflict) as refused:
                        assignments.move(assignment_id, target, actor="test")
                    assert f"is {start}" in str(refused.value)
                    assert str(refused.value).endswith(
                        f"{', '.join(sorted(allowed)) or 'none: it is final'})"
                    )
                    assert assignments.get(assignment_id).state == start

    def test_one_active_assignment_per_learner_and_content(
        self, assignments: AssignmentStore
    ) -> None:
        outcomes = race(
            *[lambda: assignments.create(ACTIVITY, username="ada", actor="coach") for _ in range(8)]
        )
        made = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        assert len(made) == 1
        assert all(isinstance(error, Conflict) for error in failures(outcomes))
        assert [item.id for item in assignments.find()] == [made[0].id]
        # Once it no longer counts, the learner may get the content again.
        assignments.move(made[0].id, State.cancelled, actor="coach")
        again = assignments.create(ACTIVITY, username="ada", actor="coach")
        with pytest.raises(Conflict):
            assignments.create(ACTIVITY, username="ada", actor="coach")
        assignments.move(again.id, State.errored, actor="lrs")
        with pytest.raises(Conflict):  # errored still counts
            assignments.create(ACTIVITY, username="ada", actor="coach")

    def test_racing_moves_of_one_assignment_leave_one_winner(
        self, assignments: AssignmentStore
    ) -> None:
        made = assignments.create(ACTIVITY, username="ada", actor="coach")
        targets = [State.cancelled, State.expired] * 4
        outcomes = race(
            *[
                lambda target=target: assignments.move(
                    made.id, target, actor="x", expected={State.allocated}
                )
                for target in targets
            ]
        )
        assert len(failures(outcomes)) == 7
        final = assignments.get(made.id)
        assert final.state in (State.cancelled, State.expired) and final.version == 2
        kinds = [action.kind for action in assignments.actions(made.id)]
        assert kinds == ["created", str(final.state)]

    def test_linking_gives_an_e_mail_assignment_to_its_user(
        self, assignments: AssignmentStore
    ) -> None:
        by_mail = assignments.create(ACTIVITY, email="ada@example.org", actor="coach")
        linked = assignments.link(by_mail.id, "ada", actor="lrs")
        assert linked.username == "ada" and linked.learner == "ada"
        assert assignments.find(Filters(username="ada")) == [linked]
        with pytest.raises(Conflict, match="ada's already"):
            assignments.link(by_mail.id, "bob", actor="lrs")
        second = assignments.create(COURSE, email="bo@example.org", actor="coach")
        assignments.create(COURSE, username="bob", actor="coach")
        with pytest.raises(Conflict, match="active assignment"):
            assignments.link(second.id, "bob", actor="lrs")
        failed = assignments.actions(second.id)[-1]
        assert failed.kind == "linked" and not failed.ok and "active assignment" in failed.reason
        assert "linked" not in assignments.last_actions(second.id)
        assert assignments.get(second.id).username is None

    def test_actions_and_history_explain_every_change(self, assignments: AssignmentStore) -> None:
        made = assignments.create(ACTIVITY, username="ada", actor="coach", note="n")
        assignments.record(made.id, "notified", actor="webhook", ok=False, reason="503")
        assignments.record(made.id, "notified", actor="webhook", details={"attempts": 2})
        assignments.move(made.id, State.accepted, actor="lrs", details={"statement": "s1"})
        actions = assignments.actions(made.id)
        assert [(action.kind, action.ok) for action in actions] == [
            ("created", True),
            ("notified", False),
            ("notified", True),
            ("accepted", True),
        ]
        assert assignments.last_actions(made.id)["notified"].details == {"attempts": 2}
        assert actions[3].details == {"statement": "s1"}
        history = assignments.history(made.id)
        assert [change.before and change.before["state"] for change in history] == [
            None,
            "allocated",
        ]
        assert history[1].after["state"] == "accepted" and history[1].actor == "lrs"
        with pytest.raises(InvalidInput, match="unknown action"):
            assignments.record(made.id, "exploded", actor="x")
        with pytest.raises(DoesNotExist):
            assignments.actions("nope")

    def test_clearing_personal_data_keeps_the_records(self, assignments: AssignmentStore) -> None:
        mine = assignments.create(ACTIVITY, username="ada", actor="coach", note="Ada's retake")
        by_mail = assignments.create(COURSE, email="ada@example.org", actor="coach", note="hi")
        other = assignments.create(ACTIVITY, username="bob", actor="coach", note="keep")
        assert len(assignments.of_learner("ada", ["ada@example.org"])) == 2
        cleared = assignments.clear_personal("ada", ["ada@example.org"], pseudonym="retired-1")
        assert cleared == 2
        assert assignments.get(mine.id).username == "retired-1"
        assert str(assignments.get(by_mail.id).email).endswith("@retired.invalid")
        for assignment_id in (mine.id, by_mail.id):
            found = assignments.get(assignment_id)
            assert found.note == "" and found.username != "ada"
            assert "ada@" not in str(found.email)
            for change in assignments.history(assignment_id):
                assert "Ada's" not in str(change) and "ada@example.org" not in str(change)
        assert assignments.get(other.id).note == "keep"
        assert assignments.counts()["allocated"] == 3
        assert assignments.clear_personal("ada", ["ada@example.org"], pseudonym="retired-1") == 0

    @pytest.mark.parametrize(
        "fields, message",
        [
            ({"content": "not an iri", "username": "ada"}, "activity IRI or a course key"),
            ({"content": ACTIVITY}, "username or e-mail"),
            ({"content": ACTIVITY, "username": "ada", "email": "a@b.org"}, "one of them"),
            ({"content": ACTIVITY, "email": "not-an-email"}, "invalid email"),
            ({"content": ACTIVITY, "username": "no spaces"}, "username"),
            ({"content": ACTIVITY, "username": "ada", "due": _in(-1)}, "in the past"),
            (
                {"content": ACTIVITY, "username": "ada", "due": datetime(2099, 1, 1)},
                "time zone",
            ),
            ({"content": ACTIVITY, "username": "ada", "note": "x" * 1001}, "note"),
            ({"content": ACTIVITY, "username": "ada", "course_key": "CS101"}, "course"),
            ({"content": COURSE, "username": "ada", "course_key": "a/b/c"}, "in that course"),
        ],
    )
    def test_bad_input_is_refused_and_stores_nothing(
        self, assignments: AssignmentStore, fields: dict[str, Any], message: str
    ) -> None:
        fields = dict(fields)
        content = fields.pop("content")
        with pytest.raises(InvalidInput, match=message):
            assignments.create(content, actor="coach", **fields)
        assert assignments.find() == []

    def test_states_are_named(self) -> None:
        assert check_state("completed") == State.completed
        with pytest.raises(InvalidInput, match="the states are allocated"):
            check_state("finished")
        assert ACTIVE == {State.allocated, State.accepted, State.completed, State.errored}
