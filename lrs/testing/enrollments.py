"""The contract of enrollment stores, split by behaviour: users, enrollments, their history."""

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from lrs.enrollments.base import CourseRole, EnrollmentStore, Outcome
from lrs.exceptions import Conflict, DoesNotExist
from lrs.testing.helpers import COURSE, OTHER_COURSE, nested


class EnrollmentHelpers:
    """Creating test users, for the classes below."""

    def users(self, enrollments: EnrollmentStore, *names: str, **fields: Any) -> None:
        for name in names:
            enrollments.create_user(name, fields, actor="test")


class UserContract(EnrollmentHelpers):
    """Users: created, read, changed, listed; bad ones refused.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """

    def test_users_are_created_read_updated_and_listed(self, enrollments: EnrollmentStore) -> None:
        profile = {"city": "Lyon", "a.b": {"$c": 1}}
        created = enrollments.create_user(
            "ada",
            {
                "email": "ada@example.org",
                "full_name": "Ada L.",
                "language": "en",
                "profile": profile,
            },
            actor="admin-key",
            reason="signup",
        )
        assert created.created is not None and created.created.tzinfo is not None
        found = enrollments.get_user("ada")
        assert (found.email, found.full_name, found.profile) == (
            "ada@example.org",
            "Ada L.",
            profile,
        )
        assert found.is_active and not found.is_staff
        updated = enrollments.update_user("ada", {"is_staff": True}, actor="admin-key")
        assert updated.is_staff and updated.email == "ada@example.org"
        assert enrollments.get_user("ada").is_staff
        self.users(enrollments, "grace", is_active=False)
        self.users(enrollments, "bob")
        assert [user.username for user in enrollments.list_users()] == ["ada", "bob", "grace"]
        assert [user.username for user in enrollments.list_users(is_active=False)] == ["grace"]
        assert [user.username for user in enrollments.list_users(is_staff=True)] == ["ada"]
        # Found by e-mail address in any case; a changed address follows.
        assert enrollments.usernames_by_email(["ADA@example.org", "nobody@x.org"]) == {
            "ada@example.org": "ada"
        }
        enrollments.update_user("ada", {"email": "Countess@Example.org"}, actor="admin-key")
        assert enrollments.usernames_by_email(["ada@example.org"]) == {}
        assert enrollments.usernames_by_email(["countess@example.org"]) == {
            "countess@example.org": "ada"
        }
        enrollments.update_user("bob", {"email": "countess@example.org"}, actor="admin-key")
        assert enrollments.usernames_by_email(["countess@EXAMPLE.org"]) == {
            "countess@example.org": "ada"  # shared: the first by username
        }
        assert enrollments.usernames_by_email([]) == {}

    def test_bad_users_are_refused_and_change_nothing(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        with pytest.raises(Conflict):
            enrollments.create_user("ada", {}, actor="test")
        bad_users: list[tuple[str, dict[str, Any]]] = [
            ("with space", {}),
            ("", {}),
            ("x" * 151, {}),
            ("bob", {"unknown": 1}),
            ("bob", {"email": "not an email"}),
            ("bob", {"is_staff": "yes"}),
            ("bob", {"language": "english!"}),
            ("bob", {"profile": []}),
            ("bob", {"profile": {"deep": nested(300)}}),
            ("bob", {"profile": {"when": datetime.now(UTC)}}),
        ]
        for name, fields in bad_users:
            with pytest.raises(ValueError):
                enrollments.create_user(name, fields, actor="test")
        with pytest.raises(ValueError):
            enrollments.update_user("ada", {"is_active": 1}, actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.update_user("nobody", {"is_active": False}, actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.get_user("bob")
        assert enrollments.get_user("ada").is_active
        assert len(enrollments.history("ada")) == 1


class EnrollmentContract(EnrollmentHelpers):
    """Enrollments: idempotent, reactivated, filtered and counted.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """

    def test_enroll_is_idempotent_and_reactivates(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        first, outcome = enrollments.enroll("ada", COURSE, actor="test")
        assert outcome == Outcome.created
        assert (first.mode, first.role, first.is_active) == ("audit", CourseRole.learner, True)
        again, outcome = enrollments.enroll("ada", COURSE, mode="verified", actor="test")
        assert outcome == Outcome.unchanged and again == first
        gone = enrollments.update_enrollment("ada", COURSE, is_active=False, actor="test")
        assert not gone.is_active
        back, outcome = enrollments.enroll("ada", COURSE, mode="verified", actor="test")
        assert outcome == Outcome.reactivated
        assert (back.mode, back.is_active, back.created) == ("verified", True, first.created)
        assert enrollments.get_enrollment("ada", COURSE) == back

    def test_staff_users_are_enrolled_as_staff_unless_told(
        self, enrollments: EnrollmentStore
    ) -> None:
        self.users(enrollments, "sam", is_staff=True)
        staff, _ = enrollments.enroll("sam", COURSE, actor="test")
        assert staff.role == CourseRole.staff
        learner, _ = enrollments.enroll("sam", OTHER_COURSE, role=CourseRole.learner, actor="test")
        assert learner.role == CourseRole.learner

    def test_bad_enrollments_are_refused_and_change_nothing(
        self, enrollments: EnrollmentStore
    ) -> None:
        self.users(enrollments, "ada")
        with pytest.raises(DoesNotExist):
            enrollments.enroll("nobody", COURSE, actor="test")
        bad_enrollments: list[tuple[str, dict[str, Any]]] = [
            ("not a course", {}),
            ("course-v1:Org+Course", {}),
            (COURSE, {"mode": "gold"}),
            (COURSE, {"role": "admin"}),
        ]
        for course, options in bad_enrollments:
            with pytest.raises(ValueError):
                enrollments.enroll("ada", course, actor="test", **options)
        assert list(enrollments.list_enrollments()) == []
        enrollments.enroll("ada", COURSE, actor="test")
        with pytest.raises(ValueError):
            enrollments.update_enrollment("ada", COURSE, mode="gold", actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.update_enrollment("ada", OTHER_COURSE, mode="verified", actor="test")
        assert enrollments.get_enrollment("ada", COURSE).mode == "audit"

    def test_listing_filters_and_counts(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada", "bob", "cy")
        enrollments.enroll("ada", COURSE, actor="test")
        enrollments.enroll("bob", COURSE, mode="verified", actor="test")
        enrollments.enroll("cy", COURSE, role=CourseRole.coach, actor="test")
        enrollments.enroll("ada", OTHER_COURSE, actor="test")
        enrollments.update_enrollment("bob", COURSE, is_active=False, actor="test")

        def names(**filters: Any) -> list[tuple[str, str]]:
            return [(e.course_key, e.username) for e in enrollments.list_enrollments(**filters)]

        assert names(course_key=COURSE) == [(COURSE, "ada"), (COURSE, "bob"), (COURSE, "cy")]
        assert names(username="ada") == [(COURSE, "ada"), (OTHER_COURSE, "ada")]
        assert names(course_key=COURSE, is_active=True) == [(COURSE, "ada"), (COURSE, "cy")]
        assert names(role=CourseRole.coach) == [(COURSE, "cy")]
        assert names(mode="verified") == [(COURSE, "bob")]
        assert enrollments.course_counts(COURSE) == {
            "active": 2,
            "inactive": 1,
            "by_mode": {"audit": 2},
            "by_role": {"learner": 1, "coach": 1},
        }
        assert enrollments.coached_courses("cy") == {COURSE}
        assert enrollments.coached_courses("ada") == frozenset()


class EnrollmentHistoryContract(EnrollmentHelpers):
    """Every change recorded, newest first; simultaneous enrollments leave one record.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """

    def test_every_change_is_recorded_newest_first(self, enrollments: EnrollmentStore) -> None:
        enrollments.create_user("ada", {"email": "a@x.org"}, actor="k1", reason="signup")
        enrollments.update_user("ada", {"email": "b@x.org"}, actor="k2", reason="typo")
        user_history = enrollments.history("ada")
        assert [(c.action, c.actor, c.reason) for c in user_history] == [
            ("updated", "k2", "typo"),
            ("created", "k1", "signup"),
        ]
        assert user_history[0].before is not None
        assert (user_history[0].before["email"], user_history[0].after["email"]) == (
            "a@x.org",
            "b@x.org",
        )
        assert user_history[1].before is None
        enrollments.enroll("ada", COURSE, actor="k1", reason="purchase")
        enrollments.enroll("ada", COURSE, actor="k1")  # unchanged: not a change
        enrollments.update_enrollment("ada", COURSE, mode="verified", actor="k2")
        enrollments.update_enrollment("ada", COURSE, is_active=False, actor="k3", reason="refund")
        enrollments.enroll("ada", COURSE, actor="k1")
        changes = enrollments.history("ada", COURSE)
        assert [change.action for change in changes] == [
            "reactivated",
            "unenrolled",
            "updated",
            "created",
        ]
        assert changes[1].reason == "refund" and changes[1].actor == "k3"
        assert changes[1].before == {"mode": "verified", "role": "learner", "is_active": True}
        assert changes[1].after == {"mode": "verified", "role": "learner", "is_active": False}
        assert all(a.time >= b.time for a, b in zip(changes, changes[1:], strict=False))
        assert enrollments.history("ada", OTHER_COURSE) == []

    def test_simultaneous_enrollments_leave_one_record(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        outcomes: list[Outcome] = []
        lock = threading.Lock()

        def enroll() -> None:
            _, outcome = enrollments.enroll("ada", COURSE, actor="test")
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=enroll) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == sorted([Outcome.created] + [Outcome.unchanged] * 7)
        assert len(list(enrollments.list_enrollments())) == 1
        assert len(enrollments.history("ada", COURSE)) == 1


class RetirementContract(EnrollmentHelpers):
    """A user retired (erased): records kept for counts, nothing that says who they were.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """

    def test_a_retired_user_keeps_enrollments_and_changes_but_no_personal_data(
        self, enrollments: EnrollmentStore
    ) -> None:
        ada = {
            "email": "ada@example.org",
            "full_name": "Ada Lovelace",
            "profile": {"city": "London"},
        }
        enrollments.create_user("ada", ada, actor="admin", reason="sign-up")
        enrollments.update_user("ada", {"full_name": "Ada King"}, actor="admin", reason="married")
        enrollments.create_user("bob", {"email": "bob@example.org"}, actor="admin")
        for course in (COURSE, OTHER_COURSE):
            enrollments.enroll("ada", course, actor="admin", reason="term")
        enrollments.enroll("bob", COURSE, actor="admin")
        counts = enrollments.course_counts(COURSE)
        bob = enrollments.get_user("bob"), enrollments.history("bob")

        assert enrollments.retire_user("ada", "retired-1a2b", "retired-1a2b@retired.invalid")
        with pytest.raises(DoesNotExist):
            enrollments.get_user("ada")
        user = enrollments.get_user("retired-1a2b")
        assert (user.email, user.full_name, user.language, user.profile, user.is_active) == (
            "retired-1a2b@retired.invalid",
            "",
            "",
            {},
            False,
        )
        assert [item.course_key for item in enrollments.list_enrollments(username="ada")] == []
        moved = enrollments.list_enrollments(username="retired-1a2b")
        assert sorted(item.course_key for item in moved) == sorted([COURSE, OTHER_COURSE])
        assert enrollments.course_counts(COURSE) == counts
        changes = enrollments.history("retired-1a2b")
        assert [(change.action, change.reason) for change in changes] == [
            ("updated", "married"),
            ("created", "sign-up"),
        ]
        text = repr(changes) + repr(enrollments.history("retired-1a2b", COURSE))
        for personal in ("ada@example.org", "Lovelace", "King", "London", "'ada'"):
            assert personal not in text
        assert enrollments.history("ada") == []
        assert (enrollments.get_user("bob"), enrollments.history("bob")) == bob
        # Done already: nothing to do the second time.
        assert not enrollments.retire_user("ada", "retired-1a2b", "retired-1a2b@retired.invalid")


class EnrollmentStoreContract(
    UserContract, EnrollmentContract, EnrollmentHistoryContract, RetirementContract
):
    """The behaviour every enrollment store must have.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """
