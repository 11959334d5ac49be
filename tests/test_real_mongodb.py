"""The contract suites against a real MongoDB server, named by LRS_TEST_MONGODB_URI."""

import os
import uuid

import pymongo
import pytest

from lrs.assignments.mongo import MongoAssignmentStore
from lrs.clients import MongoUserStateClient
from lrs.credentials import MongoCredentialStore
from lrs.enrollments import MongoEnrollmentStore
from lrs.erasure.mongo import MongoErasureStore
from lrs.exports.mongo import MongoExportLog
from lrs.forwarding.mongo import MongoForwardingStore
from lrs.history import MongoHistoryLog
from lrs.progress.mongo import MongoProgressStore
from lrs.testing import (
    ActivityStoreContract,
    AssignmentStoreContract,
    AttachmentStoreContract,
    CredentialStoreContract,
    DocumentStoreContract,
    EnrollmentStoreContract,
    ErasureStoreContract,
    ExportLogContract,
    ForwardingStoreContract,
    HistoryLogContract,
    ProgressStoreContract,
    StatementStoreContract,
    StoredUserStateClientContract,
)
from lrs.xapi.activities import MongoActivityStore
from lrs.xapi.attachments import MongoAttachmentStore
from lrs.xapi.documents import MongoDocumentStore
from lrs.xapi.statements import MongoStatementStore

URI = os.environ.get("LRS_TEST_MONGODB_URI")
if not URI:
    pytest.skip(
        "LRS_TEST_MONGODB_URI is not set: no real MongoDB server to test against",
        allow_module_level=True,
    )

pytestmark = pytest.mark.mongodb


@pytest.fixture
def driver():
    client = pymongo.MongoClient(URI, tz_aware=True, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture
def database(driver):
    """A fresh database on the server, dropped after the test."""
    made = []

    def make():
        made.append(f"lrs_test_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    for name in made:
        driver.drop_database(name)


class TestRealMongoUserStateClient(StoredUserStateClientContract):
    @pytest.fixture
    def client(self, driver, database):
        return MongoUserStateClient(driver, database())


class TestRealMongoHistoryLog(HistoryLogContract):
    @pytest.fixture
    def make_log(self, driver, database):
        return lambda retention: MongoHistoryLog(driver[database()], retention)


class TestRealMongoDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self, driver, database):
        return MongoDocumentStore(driver[database()])


class TestRealMongoEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self, driver, database):
        return MongoEnrollmentStore(driver[database()])


class TestRealMongoStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self, driver, database):
        return MongoStatementStore(driver[database()])


class TestRealMongoCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self, driver, database):
        return MongoCredentialStore(driver[database()])


class TestRealMongoActivityStore(ActivityStoreContract):
    @pytest.fixture
    def activities(self, driver, database):
        return MongoActivityStore(driver[database()])


class TestRealMongoAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachments(self, driver, database):
        return MongoAttachmentStore(driver[database()])


class TestRealMongoProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self, driver, database):
        return MongoProgressStore(driver[database()])


class TestRealMongoErasureStore(ErasureStoreContract):
    @pytest.fixture
    def erasures(self, driver, database):
        return MongoErasureStore(driver[database()])


class TestRealMongoExportLog(ExportLogContract):
    @pytest.fixture
    def exports(self, driver, database):
        return MongoExportLog(driver[database()])


class TestRealMongoAssignmentStore(AssignmentStoreContract):
    @pytest.fixture
    def assignments(self, driver, database):
        return MongoAssignmentStore(driver[database()])


class TestRealMongoForwardingStore(ForwardingStoreContract):
    @pytest.fixture
    def forwarding(self, driver, database):
        return MongoForwardingStore(driver[database()])
