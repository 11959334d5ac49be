"""Every query shape of the MongoDB stores walks an index: explain() on a real server.

The stores run their usual calls against a real server (LRS_TEST_MONGODB_URI)
through a recorder that keeps each ``find`` as the store made it; each is then
explained: no collection scan, no sort in memory. Skipped without a server,
as the other real-server suites are (docs/mongodb.md, "Testing against a
real server").
"""

import os
from typing import Any

import pytest

from lrs.clock import default_clock
from lrs.testing import AUTHORITY, statement
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version
from tests.support import real_mongo_database

URI = os.environ.get("LRS_TEST_MONGODB_URI")
if not URI:
    pytest.skip(
        "LRS_TEST_MONGODB_URI is not set: no real MongoDB server to explain queries on",
        allow_module_level=True,
    )

pytestmark = pytest.mark.mongodb


class Recorder:
    """A collection that keeps every ``find`` it is asked (filter, sort, limit)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.finds: list[tuple[dict[str, Any], Any, int]] = []

    def find(self, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        self.finds.append((filter or {}, kwargs.get("sort"), kwargs.get("limit", 0)))
        return self._inner.find(filter, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def stages(plan: Any) -> set[str]:
    """Every stage named anywhere in an explain() answer (classic, SBE, sharded)."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            found.add(plan["stage"])
        for key, value in plan.items():
            if key != "rejectedPlans":
                found |= stages(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= stages(item)
    return found


def assert_indexed(collection: Any, recorded: list[tuple[dict[str, Any], Any, int]]) -> None:
    assert recorded
    for filter, sort, limit in recorded:
        cursor = collection.find(filter, sort=sort, limit=limit)
        plan = stages(cursor.explain()["queryPlanner"])
        assert "COLLSCAN" not in plan, (filter, sort, plan)
        assert "SORT" not in plan, (filter, sort, plan)


@pytest.fixture
def database():
    with real_mongo_database() as database:
        yield database


def test_statement_queries_walk_an_index(database):
    from lrs.xapi.statements import MongoStatementStore

    store = MongoStatementStore(database)
    records = [
        prepare(statement(n), version=Version.V1_0_3, authority=AUTHORITY).stamped(
            default_clock.now_us() + n
        )
        for n in range(20)
    ]
    store.save(records)
    recorder = Recorder(store._collection)
    store._collection = recorder
    ada = "mbox:mailto:ada@example.org"
    first = records[0]
    for query in (
        StatementQuery(limit=10),
        StatementQuery(limit=10, ascending=True, since_us=first.stored_us),
        StatementQuery(verb="http://adlnet.gov/expapi/verbs/completed", limit=10),
        StatementQuery(agent=ada, limit=10),
        StatementQuery(agent=ada, related_agents=True, limit=10),
        StatementQuery(activity="http://example.org/activities/a0", limit=10),
        StatementQuery(limit=5, after=(records[10].stored_us, records[10].id)),
        StatementQuery(limit=5, ascending=True, after=(records[3].stored_us, records[3].id)),
    ):
        store.query(query)
    store.course_days("course-v1:O+C+R", 0, default_clock.now_us())
    store.older_than(default_clock.now_us(), 10)
    assert_indexed(database.statements, recorder.finds)


def test_progress_and_document_reads_walk_an_index(database):
    from lrs.progress.mongo import MongoProgressStore
    from lrs.testing.progress import event
    from lrs.xapi.documents.mongo import MongoDocumentStore

    progress = MongoProgressStore(database)
    progress.record([event(n, course="C1", minute=n) for n in range(5)])
    recorder = Recorder(progress._progress)
    progress._progress = recorder
    progress.summaries(course="C1")
    progress.summaries(content="http://example.org/a0")
    progress.summaries(learner="mbox:mailto:ada@example.org")
    progress.record(
        [event(n, course="C1", minute=n, content=f"http://x.org/{n}") for n in range(9, 12)]
    )
    assert_indexed(database.progress, recorder.finds)
    documents = MongoDocumentStore(database)
    recorder = Recorder(documents._collection)
    documents._collection = recorder
    documents.count_agents(frozenset({"mbox:mailto:ada@example.org"}))
    assert_indexed(database.documents, recorder.finds or [({"agent": "x"}, None, 0)])
