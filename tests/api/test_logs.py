"""Logs name what failed and where, never learners' data."""

import json
import logging

import pytest
from pymongo.errors import BulkWriteError

from tests.mongomock_support import mongomock_storage
from tests.support import ADMIN, basic, make_app

STATEMENT = {
    "actor": {"mbox": "mailto:ada.private@example.org", "name": "Ada Private"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.org/activities/a0"},
}
XAPI = {**basic(*ADMIN), "X-Experience-API-Version": "2.0.0"}


class RefusingInserts:
    """A collection whose inserts fail as a server's document validation would,
    with the refused document in the error's details (as the driver reports it)."""

    def __init__(self, collection):
        self._collection = collection

    def __getattr__(self, name):
        return getattr(self._collection, name)

    def insert_many(self, documents, *args, **kwargs):
        raise BulkWriteError(
            {
                "writeErrors": [
                    {"index": 0, "code": 121, "errmsg": "Document failed validation", "op": doc}
                    for doc in documents
                ],
                "writeConcernErrors": [],
                "nInserted": 0,
            }
        )


def assert_no_personal_data(text):
    for private in ("mbox", "mailto", "ada.private", "Ada Private"):
        assert private not in text, text


def test_a_store_error_is_logged_without_the_statement(caplog):
    storage = mongomock_storage()
    storage.statements._collection = RefusingInserts(storage.statements._collection)
    http = make_app(storage).test_client()
    with caplog.at_level(logging.INFO):
        response = http.post("/xAPI/statements", json=STATEMENT, headers=XAPI)
    assert response.status_code == 500
    assert "121" in caplog.text  # what went wrong is there
    assert_no_personal_data(caplog.text)
    assert_no_personal_data(response.get_data(as_text=True))


def test_an_unexpected_error_is_logged_without_its_message(caplog, monkeypatch):
    def fail(storage, records, batch, *args, **options):
        raise ValueError(f"cannot store {json.dumps(batch)}")

    monkeypatch.setattr("lrs.api.xapi.statements.store_batch", fail)
    http = make_app(PROPAGATE_EXCEPTIONS=False).test_client()
    agent = json.dumps(STATEMENT["actor"])
    with caplog.at_level(logging.INFO):
        response = http.post(f"/xAPI/statements?agent={agent}", json=STATEMENT, headers=XAPI)
        assert response.status_code == 400  # POST takes no parameters
        response = http.post("/xAPI/statements", json=STATEMENT, headers=XAPI)
    assert response.status_code == 500
    assert "unhandled ValueError on POST /xAPI/statements" in caplog.text
    assert "raise ValueError" in caplog.text  # the frames are there
    assert_no_personal_data(caplog.text)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_requests_log_no_personal_data(caplog, status):
    http = make_app().test_client()
    headers = XAPI if status == 403 else {"X-Experience-API-Version": "2.0.0"}
    if status == 403:
        key, secret = "coach-key-1", "coach-secret-" + "0" * 20
        http.application.extensions["lrs"].credentials.create(
            "coach", key=key, secret=secret, username="coach1"
        )
        headers = {**basic(key, secret), "X-Experience-API-Version": "2.0.0"}
    with caplog.at_level(logging.DEBUG):
        response = http.post("/xAPI/statements", json=STATEMENT, headers=headers)
    assert response.status_code == status
    assert_no_personal_data(caplog.text)
