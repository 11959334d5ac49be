"""The access policy as a role table, without a web framework: who may do what."""

import pytest

from lrs.clock import default_clock, from_us
from lrs.credentials.access import Access
from lrs.credentials.base import Credential, Role
from lrs.enrollments import CourseRole, MemoryEnrollmentStore
from lrs.exceptions import PermissionDenied
from lrs.testing import COURSE, OTHER_COURSE, block, user
from lrs.xapi.agents import AccountAgents
from lrs.xapi.documents import Context, Resource

ACCOUNTS = AccountAgents("http://lrs.test")
MINE = user(0)  # the learner, enrolled in COURSE
OTHER = user(1)  # enrolled in OTHER_COURSE

CALLERS = {
    "admin": (Role.admin, None),
    "service": (Role.service, None),
    "coach": (Role.coach, "coach0"),  # coaches COURSE
    "coach-elsewhere": (Role.coach, "coach1"),  # coaches OTHER_COURSE
    "learner": (Role.learner, MINE),
    "other-learner": (Role.learner, OTHER),
}


@pytest.fixture(scope="module")
def enrollments():
    store = MemoryEnrollmentStore()
    for name in (MINE, OTHER, "coach0", "coach1"):
        store.create_user(name, {}, actor="test")
    store.enroll(MINE, COURSE, actor="test")
    store.enroll(OTHER, OTHER_COURSE, actor="test")
    store.enroll("coach0", COURSE, role=CourseRole.coach, actor="test")
    store.enroll("coach1", OTHER_COURSE, role=CourseRole.coach, actor="test")
    return store


def policy(enrollments, caller):
    role, username = CALLERS[caller]
    credential = Credential(f"{caller}-key", role, username, "", from_us(default_clock.now_us()))
    return Access(credential, enrollments, ACCOUNTS)


MY_STATE = Context(Resource.state, block(0), ACCOUNTS.key(MINE))
OTHER_STATE = Context(Resource.state, block(0, course=OTHER_COURSE), ACCOUNTS.key(OTHER))
PROFILE = Context(Resource.activity_profile, "http://example.org/a")
MY_AGENT_PROFILE = Context(Resource.agent_profile, agent=ACCOUNTS.key(MINE))

# action: the callers it allows (every other caller is refused)
TABLE = {
    "manage credentials": (lambda a: a.require_admin(), {"admin"}),
    "manage users": (lambda a: a.require_manager(), {"admin", "service"}),
    "read my enrollments": (
        lambda a: a.require_enrollment_reader(MINE, None),
        {"admin", "service", "learner"},
    ),
    "read the course's enrollments": (
        lambda a: a.require_enrollment_reader(None, COURSE),
        {"admin", "service", "coach"},
    ),
    "read my block": (
        lambda a: a.require_learner_state(MINE, [block(0)], write=False),
        {"admin", "service", "learner", "coach"},
    ),
    "write my block": (
        lambda a: a.require_learner_state(MINE, [block(0)], write=True),
        {"admin", "service", "learner"},
    ),
    "read my block of another course": (
        lambda a: a.require_learner_state(MINE, [block(0, course=OTHER_COURSE)], write=False),
        {"admin", "service", "learner"},
    ),
    "read the other learner's block": (
        lambda a: a.require_learner_state(OTHER, [block(0, course=OTHER_COURSE)], write=False),
        {"admin", "service", "coach-elsewhere", "other-learner"},
    ),
    "read the whole course": (lambda a: a.require_course(COURSE), {"admin", "service", "coach"}),
    "store statements": (
        lambda a: a.statement_actor(),
        {"admin", "service", "learner", "other-learner"},
    ),
    "read my state document": (
        lambda a: a.require_document(MY_STATE, write=False),
        {"admin", "service", "learner", "coach"},
    ),
    "write my state document": (
        lambda a: a.require_document(MY_STATE, write=True),
        {"admin", "service", "learner"},
    ),
    "read the other learner's state document": (
        lambda a: a.require_document(OTHER_STATE, write=False),
        {"admin", "service", "other-learner", "coach-elsewhere"},
    ),
    "read an activity profile": (
        lambda a: a.require_document(PROFILE, write=False),
        {"admin", "service", "learner", "other-learner"},
    ),
    "write an activity profile": (
        lambda a: a.require_document(PROFILE, write=True),
        {"admin", "service"},
    ),
    "write my agent profile": (
        lambda a: a.require_document(MY_AGENT_PROFILE, write=True),
        {"admin", "service", "learner"},
    ),
    "read the course's progress": (
        lambda a: a.course_learners(COURSE),
        {"admin", "service", "coach"},
    ),
    "read every course's progress": (lambda a: a.course_learners(None), {"admin", "service"}),
    "see my records (my page)": (
        lambda a: a.record_courses(MINE),
        {"admin", "service", "learner", "coach"},
    ),
    "see the other learner's records": (
        lambda a: a.record_courses(OTHER),
        {"admin", "service", "other-learner", "coach-elsewhere"},
    ),
    "see the courses' pages": (
        lambda a: a.visible_courses(),
        {"admin", "service", "coach", "coach-elsewhere"},
    ),
    "read my progress by username": (
        lambda a: a.progress_scope(ACCOUNTS.key(MINE), by_agent=False, course=COURSE),
        {"admin", "service", "learner", "coach"},
    ),
    "read progress by agent key": (
        lambda a: a.progress_scope(ACCOUNTS.key(MINE), by_agent=True, course=COURSE),
        {"admin", "service"},
    ),
    "export statements, users, enrollments": (
        lambda a: a.export_scope(False, None),
        {"admin", "service"},
    ),
    "export the course's progress": (
        lambda a: a.export_scope(True, COURSE),
        {"admin", "service", "coach"},
    ),
    "read my assignment": (
        lambda a: a.require_assignment_reader(MINE, COURSE),
        {"admin", "service", "learner", "coach"},
    ),
    "list the course's assignments": (
        lambda a: a.assignment_list_scope(None, COURSE),
        {"admin", "service", "coach", "learner", "other-learner"},
    ),
    "list my assignments": (
        lambda a: a.assignment_list_scope(MINE, COURSE),
        {"admin", "service", "coach", "learner"},
    ),
    "assign content": (
        lambda a: a.require_assigner(),
        {"admin", "service", "coach", "coach-elsewhere"},
    ),
    "look me up": (
        lambda a: a.require_agent_lookup(ACCOUNTS.key(MINE)),
        {"admin", "service", "learner", "coach", "coach-elsewhere"},
    ),
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("action", list(TABLE))
def test_role_table(enrollments, caller, action):
    check, allowed = TABLE[action]
    if caller in allowed:
        check(policy(enrollments, caller))
    else:
        with pytest.raises(PermissionDenied) as refused:
            check(policy(enrollments, caller))
        assert str(refused.value)  # every refusal says why


def test_what_each_role_reads_of_statements(enrollments):
    assert policy(enrollments, "admin").statement_readers() is None
    assert policy(enrollments, "service").statement_readers() is None
    assert policy(enrollments, "learner").statement_readers() == {ACCOUNTS.key(MINE)}
    # Everyone actively enrolled in the coached course (the coach's own enrollment too).
    assert policy(enrollments, "coach").statement_readers() == {
        ACCOUNTS.key(MINE),
        ACCOUNTS.key("coach0"),
    }
    assert ACCOUNTS.key(OTHER) in policy(enrollments, "coach-elsewhere").statement_readers()
    assert policy(enrollments, "learner").statement_actor() == ACCOUNTS.key(MINE)
    assert policy(enrollments, "service").statement_actor() is None


def test_who_sees_what_of_learners_and_their_records(enrollments):
    assert policy(enrollments, "coach").visible_learners(COURSE) == {MINE, "coach0"}
    assert OTHER not in policy(enrollments, "coach").visible_learners(COURSE)
    assert policy(enrollments, "admin").visible_learners(COURSE) is None
    assert not policy(enrollments, "coach").sees_user_records
    assert policy(enrollments, "learner").sees_user_records
    assert policy(enrollments, "service").sees_credential_keys
    assert not policy(enrollments, "learner").sees_credential_keys
    assert not policy(enrollments, "coach").sees_credential_keys


def test_a_coach_reads_a_learner_in_the_courses_it_coaches_only():
    store = MemoryEnrollmentStore()
    for name in (MINE, OTHER, "coach0", "coach1"):
        store.create_user(name, {}, actor="test")
    store.enroll(OTHER, COURSE, actor="test")  # OTHER learns in both courses
    store.enroll(OTHER, OTHER_COURSE, actor="test")
    store.enroll("coach0", COURSE, role=CourseRole.coach, actor="test")
    store.enroll("coach1", OTHER_COURSE, role=CourseRole.coach, actor="test")
    assert policy(store, "coach").record_courses(OTHER) == {COURSE}
    assert policy(store, "coach-elsewhere").record_courses(OTHER) == {OTHER_COURSE}
    assert policy(store, "other-learner").record_courses(OTHER) is None
    assert policy(store, "admin").record_courses(OTHER) is None
    assert ACCOUNTS.key(OTHER) in policy(store, "coach").course_learners(COURSE)


def test_what_a_page_needs_to_know_of_who_signed_in(enrollments):
    assert policy(enrollments, "learner").own_learner == MINE
    assert policy(enrollments, "coach").own_learner is None
    assert policy(enrollments, "admin").is_admin and not policy(enrollments, "service").is_admin
    assert policy(enrollments, "coach").visible_courses() == {COURSE}
    assert policy(enrollments, "service").visible_courses() is None
    # A learner's list is its own, whatever it asks; a coach's, the course's.
    assert policy(enrollments, "learner").assignment_list_scope(None, None) == MINE
    assert policy(enrollments, "coach").assignment_list_scope(None, COURSE) is None
    assert policy(enrollments, "learner").progress_scope(None, by_agent=False, course=None) == (
        ACCOUNTS.key(MINE),
        None,
    )
