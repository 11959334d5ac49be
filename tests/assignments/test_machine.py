"""A state machine of the assignment lifecycle on every backend (hypothesis).

Random sequences of assignments (by username and by e-mail, one pair at once
from two threads), statements, enrollments, new users, clock jumps past due
dates, cancels and reversals: no assignment ever makes a move the table
forbids, one (learner, content) never has two active assignments, and each
assignment's action log replays to its current state.
"""

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from lrs.assignments import base
from lrs.assignments.base import ACTIVE, MOVES, State
from lrs.exceptions import Conflict, DoesNotExist
from lrs.testing import COURSE
from lrs.testing.helpers import race
from lrs.usecases import assignments as lifecycle
from lrs.usecases.assignments import Assignments
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.agents import AccountAgents
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version
from tests.mongomock_support import mongomock_storage

HOMEPAGE = "https://lms.example.org"
QUIZ = "http://example.org/activities/quiz-1"
CONTENTS = st.sampled_from([QUIZ, COURSE])
LEARNERS = st.sampled_from(["ada", "bob", "cy@example.org"])
AUTHORITY = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "tests"}}
TRANSITIONS = {state.value for state in State}


def storage_of(backend, directory):
    if backend == "memory":
        return open_storage("memory://")
    if backend == "sqlite":
        return open_storage(f"sqlite:///{directory}/{uuid.uuid4().hex}.db")
    return mongomock_storage(f"machine_{uuid.uuid4().hex}")


class Lifecycle(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self):
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.storage = storage_of(self.backend, Path(self.directory.name))
        self.accounts = AccountAgents(HOMEPAGE)
        self.service = Assignments(self.storage, self.accounts)
        self.offset = timedelta()
        real_now = base.now
        self.restore = (base.now, lifecycle.now)
        base.now = lifecycle.now = lambda: real_now() + self.offset
        for name in ("ada", "bob"):
            self.storage.enrollments.create_user(name, {}, actor="test")
        self.ids: list[str] = []

    def teardown(self):
        base.now, lifecycle.now = self.restore
        self.storage.close()
        self.directory.cleanup()

    def _assign(self, learner, content, due_days):
        due = None if due_days is None else base.now() + timedelta(days=due_days)
        field = {"email": learner} if "@" in learner else {"username": learner}
        course = None if content == COURSE else COURSE
        return self.service.assign(content, course_key=course, due=due, actor="coach", **field)

    @rule(learner=LEARNERS, content=CONTENTS, due_days=st.sampled_from([None, 1, 3]))
    def assign(self, learner, content, due_days):
        try:
            made = self._assign(learner, content, due_days)
        except Conflict:
            return
        self.ids.append(made.id)

    @rule(learner=LEARNERS, content=CONTENTS)
    def assign_twice_at_once(self, learner, content):
        outcomes = race(
            lambda: self._assign(learner, content, None),
            lambda: self._assign(learner, content, None),
        )
        made = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        assert all(isinstance(outcome, Conflict) for outcome in outcomes if outcome not in made)
        assert len(made) <= 1
        self.ids += [item.id for item in made]

    @rule(learner=st.sampled_from(["ada", "bob", "cy"]), content=CONTENTS, completes=st.booleans())
    def statement(self, learner, content, completes):
        activity = content if content != COURSE else "http://example.org/courses/c1"
        data = {
            "actor": {"account": {"homePage": HOMEPAGE, "name": learner}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": activity},
            "result": {"completion": completes},
        }
        prepared = prepare(data, version=Version.V1_0_3, authority=AUTHORITY)
        store_batch(
            self.storage, [prepared], [data], ["statement"], on_stored=self.service.on_events
        )

    @rule(learner=st.sampled_from(["ada", "bob"]))
    def enroll(self, learner):
        self.storage.enrollments.enroll(learner, COURSE, actor="test")
        self.service.on_enrolled(learner, COURSE)

    @rule()
    def cy_gets_an_account(self):
        try:
            self.storage.enrollments.create_user("cy", {"email": "cy@example.org"}, actor="t")
        except Conflict:
            return
        self.service.link_user("cy", "cy@example.org")

    @rule(days=st.sampled_from([2, 4]))
    def time_passes(self, days):
        self.offset += timedelta(days=days)
        if days == 4:
            self.service.expire()

    @rule(data=st.data(), to=st.sampled_from([State.cancelled, State.reversed, State.errored]))
    def move(self, data, to):
        if not self.ids:
            return
        assignment_id = data.draw(st.sampled_from(self.ids))
        before = self.storage.assignments.get(assignment_id)
        try:
            after = self.service.move(assignment_id, to, actor="coach", reason="test")
        except Conflict:
            assert to not in MOVES[self.storage.assignments.get(assignment_id).state] or (
                self.storage.assignments.get(assignment_id).version != before.version
            )
            return
        assert to in MOVES[before.state] and after.state == to

    @rule(data=st.data())
    def read(self, data):
        if self.ids:
            self.service.get(data.draw(st.sampled_from(self.ids)))

    @invariant()
    def one_active_per_learner_and_content(self):
        active = [item for item in self.storage.assignments.find() if item.state in ACTIVE]
        keys = [(item.learner, item.content) for item in active]
        assert len(keys) == len(set(keys)), keys

    @invariant()
    def the_log_explains_the_state(self):
        for assignment in self.storage.assignments.find():
            state = State.allocated
            for action in self.storage.assignments.actions(assignment.id):
                if action.ok and action.kind in TRANSITIONS:
                    to = State(action.kind)
                    assert to in MOVES[state], (state, to)
                    state = to
            assert state == assignment.state
            history = self.storage.assignments.history(assignment.id)
            assert history[-1].after["state"] == assignment.state

    @invariant()
    def unknown_ids_stay_unknown(self):
        with pytest.raises(DoesNotExist):
            self.storage.assignments.get("no-such-assignment")


MACHINE_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


class MemoryLifecycle(Lifecycle):
    backend = "memory"


class SqliteLifecycle(Lifecycle):
    backend = "sqlite"


class MongoLifecycle(Lifecycle):
    backend = "mongomock"


TestMemoryLifecycle = MemoryLifecycle.TestCase
TestMemoryLifecycle.settings = MACHINE_SETTINGS
TestSqliteLifecycle = SqliteLifecycle.TestCase
TestSqliteLifecycle.settings = MACHINE_SETTINGS
TestMongoLifecycle = MongoLifecycle.TestCase
TestMongoLifecycle.settings = MACHINE_SETTINGS
