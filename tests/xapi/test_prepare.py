"""From a statement as sent to the record stored: what the LRS adds, and the equality digest."""

import orjson
import pytest

from lrs.xapi import syntax
from lrs.xapi.digests import digest
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.memory import MemoryStatementStore
from lrs.xapi.validation import StatementError, Version

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k"}}
SENT = {
    "id": "D1B7C2A0-3F4E-4C1A-9B2D-8E7F6A5B4C3D",
    "actor": {"mbox": "mailto:ada@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.org/a"},
    "result": {"duration": "PT1.2345S"},
    "context": {"contextActivities": {"parent": {"id": "http://example.org/p"}}},
}


def stored(statement, stored_us=1_700_000_000_123_456, version=Version.V1_0_3):
    record = prepare(statement, version=version, authority=AUTHORITY).stamped(stored_us)
    return record, orjson.loads(record.text)


def test_the_lrs_sets_what_it_sets_and_keeps_the_rest():
    record, text = stored(SENT)
    assert record.id == text["id"] == SENT["id"].lower()
    assert text["stored"] == text["timestamp"] == "2023-11-14T22:13:20.123456Z"
    assert text["authority"] == AUTHORITY
    assert text["version"] == "1.0.0"
    # Context activities are arrays (Data 2.4.6.2); the duration is kept as sent.
    assert text["context"]["contextActivities"]["parent"] == [{"id": "http://example.org/p"}]
    assert text["result"] == SENT["result"]
    assert {key: text[key] for key in ("actor", "verb", "object")} == {
        key: SENT[key] for key in ("actor", "verb", "object")
    }
    assert record.stored_us == 1_700_000_000_123_456


def test_a_sent_timestamp_and_version_are_kept_and_authority_and_stored_replaced():
    sent = {
        **SENT,
        "timestamp": "2026-01-02T03:04:05.678Z",
        "version": "1.0.3",
        "stored": "2020-01-01T00:00:00Z",
        "authority": {"mbox": "mailto:someone@else.org"},
    }
    _, text = stored(sent)
    assert text["timestamp"] == "2026-01-02T03:04:05.678Z"
    assert text["version"] == "1.0.3"
    assert text["authority"] == AUTHORITY
    assert text["stored"] != sent["stored"]
    assert list(text).count("timestamp") == 1


def test_the_digest_is_that_of_what_was_sent():
    record, _ = stored(SENT)
    assert record.digest == digest(SENT)
    # Key order, the properties the LRS sets, and durations past 0.01 s do not count.
    reordered = dict(reversed(list(SENT.items())))
    again, _ = stored({**reordered, "result": {"duration": "PT1.23S"}, "version": "1.0.0"})
    assert again.digest == record.digest
    other, _ = stored({**SENT, "result": {"duration": "PT1.24S"}})
    assert other.digest != record.digest


def test_version_2_statements_are_stored_as_2_0_0():
    _, text = stored(
        {key: value for key, value in SENT.items() if key != "id"}, version=Version.V2_0_0
    )
    assert text["version"] == "2.0.0"
    assert syntax.is_uuid(text["id"])


def test_an_invalid_statement_is_refused_before_anything_is_built():
    with pytest.raises(StatementError) as raised:
        prepare({**SENT, "verb": {"id": "nope"}}, version=Version.V1_0_3, authority=AUTHORITY)
    assert raised.value.path == "statement.verb.id"


def test_statements_in_a_memory_store_share_their_repeated_strings():
    store = MemoryStatementStore()
    first_us = 1_700_000_000_000_000
    text = orjson.dumps({key: value for key, value in SENT.items() if key != "id"})
    records = [
        # Two parses of one statement: equal strings, distinct objects.
        prepare(orjson.loads(text), version=Version.V1_0_3, authority=AUTHORITY).stamped(
            first_us + n
        )
        for n in range(2)
    ]
    assert records[0].terms.verb is not records[1].terms.verb
    store.save(records)
    first, second = (store.get(record.id) for record in records)
    assert first.terms == records[0].terms
    assert first.terms.verb is second.terms.verb
    assert first.terms.related_activities[0] is second.terms.related_activities[0]
