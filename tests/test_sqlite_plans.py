"""The main SQLite queries walk indexes: no table scan, no sort of what they find."""

import pytest

from lrs.clients.sqlite import SqliteUserStateClient
from lrs.testing import COURSE, block, user
from lrs.xapi.documents.base import Context, Resource
from lrs.xapi.documents.sqlite import SqliteDocumentStore
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.statements.sqlite import SqliteStatementStore
from lrs.xapi.validation import Version


class PlanSpy:
    """A connection that records the query plan of every SELECT it runs."""

    def __init__(self, connection):
        self.connection = connection
        self.plans = []

    def execute(self, sql, parameters=()):
        if sql.lstrip().upper().startswith("SELECT"):
            plan = self.connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()
            self.plans.append((sql, [row[3] for row in plan]))
        return self.connection.execute(sql, parameters)

    def __getattr__(self, name):
        return getattr(self.connection, name)


@pytest.fixture
def spy(sqlite_database):
    recorder = PlanSpy(sqlite_database.connection())
    sqlite_database._local.connection = recorder  # this thread's connection
    return sqlite_database, recorder


def assert_indexed(plans):
    assert plans
    for sql, steps in plans:
        for step in steps:
            if "RIGHT PART OF ORDER BY" in step:
                continue
            if step in ("CONSTANT ROW", "SCAN CONSTANT ROW") or step.startswith("SCALAR SUBQUERY"):
                continue  # the wrapping of subqueries, themselves checked as their own steps
            if "max(" in sql and step.count(" ") == 1:
                continue  # "SEARCH table": the largest key, read at the end of the table
            assert step.startswith(("SEARCH", "SCAN")) and "USING" in step, (sql, steps)
            # Ties of stored time are put in id order, by a sort of each tie alone.
            assert "TEMP B-TREE" not in step.replace("FOR RIGHT PART OF ORDER BY", ""), (sql, steps)
            if step.startswith("SCAN"):
                # Only the walk of a whole index in order, which stops at the limit.
                assert "USING INDEX" in step or "USING COVERING INDEX" in step, (sql, steps)


AGENT = "mbox:mailto:ada@example.org"
QUERIES = {
    "no filter": StatementQuery(until_us=10**18),
    "agent": StatementQuery(agent=AGENT, until_us=10**18),
    "related agents": StatementQuery(agent=AGENT, related_agents=True),
    "verb, ascending": StatementQuery(verb="http://x.org/v", ascending=True),
    "activity, since": StatementQuery(activity="http://x.org/a", since_us=5, until_us=10**18),
    "related activities": StatementQuery(activity="http://x.org/a", related_activities=True),
    "registration, next page": StatementQuery(
        registration="d1b7c2a0-3f4e-4c1a-9b2d-8e7f6a5b4c3d", after=(10, "x")
    ),
    "two filters, next page ascending": StatementQuery(
        agent=AGENT, verb="http://x.org/v", ascending=True, after=(10, "x")
    ),
}


STATEMENT = {
    "id": "d1b7c2a0-3f4e-4c1a-9b2d-8e7f6a5b4c3e",
    "actor": {"mbox": "mailto:ada@example.org"},
    "verb": {"id": "http://x.org/v"},
    "object": {"id": "http://x.org/a"},
    "context": {"registration": "d1b7c2a0-3f4e-4c1a-9b2d-8e7f6a5b4c3d"},
}


def saved(database):
    """A statement store holding one statement with every term the queries ask for."""
    store = SqliteStatementStore(database)
    authority = {"mbox": "mailto:lrs@example.org"}
    store.save([prepare(STATEMENT, version=Version.V1_0_3, authority=authority).stamped(7)])
    return store


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_statement_queries_walk_an_index(spy, query):
    database, recorder = spy
    store = saved(database)
    recorder.plans.clear()
    store.query(query)
    # Each query's walk ran, not only the look-up of its term's number.
    assert any("ORDER BY" in sql for sql, _ in recorder.plans)
    assert_indexed(recorder.plans)


def test_getting_a_statement_and_saving_a_batch_look_ids_up(spy):
    database, recorder = spy
    store = saved(database)
    store.get("d1b7c2a0-3f4e-4c1a-9b2d-8e7f6a5b4c3d")
    assert_indexed(recorder.plans)


@pytest.mark.parametrize("since_us", [None, 5])
def test_document_listings_walk_an_index(spy, since_us):
    database, recorder = spy
    context = Context(Resource.state, "http://x.org/a", AGENT, "")
    SqliteDocumentStore(database).ids(context, since_us)
    assert_indexed(recorder.plans)


@pytest.mark.parametrize("block_type", [None, "problem"])
def test_iterating_a_course_walks_an_index(spy, block_type):
    database, recorder = spy
    client = SqliteUserStateClient(database)
    for n in range(3):
        client.set(user(n), block(n), {"n": n})
    recorder.plans.clear()
    found = list(client.iter_all_for_course(COURSE, block_type=block_type, batch_size=2))
    assert len(found) == 3
    assert_indexed(recorder.plans)


def test_a_learners_blocks_and_a_blocks_learners_are_looked_up(spy):
    database, recorder = spy
    client = SqliteUserStateClient(database)
    client.set(user(0), block(0), {"n": 0})
    list(client.get_many(user(0), [block(0), block(1)]))
    list(client.iter_all_for_block(block(0)))
    list(client.get_history(user(0), block(0)))
    assert_indexed(recorder.plans)


def test_a_user_is_found_by_email_through_an_index(spy):
    from lrs.enrollments.sqlite import SqliteEnrollmentStore

    database, recorder = spy
    store = SqliteEnrollmentStore(database)
    store.create_user("ada", {"email": "Ada@Example.org"}, actor="t")
    recorder.plans.clear()
    assert store.usernames_by_email(["ADA@example.ORG"]) == {"ada@example.org": "ada"}
    assert_indexed(recorder.plans)
    assert any("users_by_email" in step for _, steps in recorder.plans for step in steps)
