import mongomock
import pytest

from lrs.testing import StatementStoreContract
from lrs.xapi.statements import MemoryStatementStore, MongoStatementStore


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
