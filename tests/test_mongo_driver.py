"""How every MongoDB store talks to the server: time limits, checked writes, errors as answers."""

import warnings

import pytest
from pymongo.errors import (
    BulkWriteError,
    CursorNotFound,
    DocumentTooLarge,
    DuplicateKeyError,
    ExecutionTimeout,
    NotPrimaryError,
    OperationFailure,
    WriteConcernError,
)

from lrs.exceptions import InvalidInput, ServiceUnavailable, UserStateError
from lrs.mongo import DEFAULT_TIMEOUT_MS, collection, open_database, translate_errors

# A closed port on this machine: the driver connects lazily, nothing is reached.
CLOSED = "mongodb://127.0.0.1:9"


def opened(url):
    client, database = open_database(url)
    return client, database


def test_every_operation_has_a_time_limit_unless_the_url_sets_one():
    client, _ = opened(f"{CLOSED}/lrs")
    try:
        assert client.options.timeout == DEFAULT_TIMEOUT_MS / 1000
    finally:
        client.close()
    client, _ = opened(f"{CLOSED}/lrs?timeoutMS=2500")
    try:
        assert client.options.timeout == 2.5
    finally:
        client.close()


def test_unacknowledged_writes_are_refused():
    with pytest.raises(InvalidInput, match="w=0"):
        opened(f"{CLOSED}/lrs?w=0")


def test_a_secondary_read_preference_is_overridden_and_said():
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        client, database = opened(f"{CLOSED}/lrs?readPreference=secondaryPreferred")
    try:
        assert any("read preference" in str(item.message) for item in said)
        assert collection(database, "statements").read_preference.name == "Primary"
    finally:
        client.close()


@pytest.mark.parametrize(
    "error",
    [
        ExecutionTimeout("operation exceeded time limit", 50),
        WriteConcernError("waiting for replication timed out", 64),
        CursorNotFound("cursor id not found", 43),
        NotPrimaryError("not primary"),
        OperationFailure("stepped down", 189),
        BulkWriteError({"writeErrors": [], "writeConcernErrors": [{"code": 64}]}),
        OperationFailure("retry", 262),
    ],
)
def test_errors_that_may_pass_are_503(error):
    with pytest.raises(ServiceUnavailable), translate_errors():
        raise error


def test_a_refusal_stays_a_refusal_and_a_huge_document_is_bad_input():
    for error in (
        DuplicateKeyError("E11000", 11000),
        BulkWriteError({"writeErrors": [{"code": 11000}], "writeConcernErrors": []}),
    ):
        with pytest.raises(UserStateError) as raised, translate_errors():
            raise error
        assert not isinstance(raised.value, ServiceUnavailable)
    with pytest.raises(InvalidInput, match="16 MiB"), translate_errors():
        raise DocumentTooLarge("BSON document too large")
