import mongomock
import pytest

from lrs.clock import default_clock
from lrs.exceptions import Conflict
from lrs.storage import open_storage
from lrs.testing import AUTHORITY, StatementStoreContract, statement
from lrs.xapi.prepare import prepare
from lrs.xapi.statements import MemoryStatementStore, MongoStatementStore
from lrs.xapi.statements.base import VOIDED, StatementQuery
from lrs.xapi.validation import Version


class TestMemoryStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self):
        return MemoryStatementStore()


class TestMongoStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self):
        return MongoStatementStore(mongomock.MongoClient(tz_aware=True).lrs_test)


def test_mongo_indexes_every_filter_with_the_stored_time():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoStatementStore(database)
    indexes = database.statements.index_information()
    for field in (
        "verb",
        "agents",
        "related_agents",
        "activity",
        "related_activities",
        "registration",
    ):
        assert indexes[f"statements_by_{field}"]["key"] == [
            (f"termsets.{field}", 1),
            ("stored_us", -1),
            ("_id", -1),
        ]


def test_statements_survive_a_restart_of_the_mongo_client():
    def record(data):
        return prepare(
            data, version=Version.V1_0_3, authority=AUTHORITY, stored_us=default_clock.now_us()
        )

    url = "mongomock://localhost/restart_test"
    first = open_storage(url)
    first.statements.save([record(statement(0)), record(statement(1))])
    first.close()

    second = open_storage(url)
    assert second.statements.get(statement(0)["id"]) is not None
    ref = {"objectType": "StatementRef", "id": statement(0)["id"]}
    second.statements.save([record(statement(2, verb=VOIDED, object=ref))])
    with pytest.raises(Conflict):
        second.statements.save([record(statement(1, verb="http://x.org/other"))])
    found = [r.id for r in second.statements.query(StatementQuery(limit=10))]
    assert found == [statement(2)["id"], statement(1)["id"]]
