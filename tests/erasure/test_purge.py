"""Retention: statements older than N days removed, with their progress and unused attachments."""

import hashlib
import uuid

import pytest

from lrs.clock import default_clock
from lrs.exceptions import InvalidInput
from lrs.progress import event_of
from lrs.testing import AUTHORITY
from lrs.usecases.purge import purge_statements
from lrs.usecases.rebuild import rebuild
from lrs.xapi.attachments import AttachmentData
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version
from tests.support import BACKENDS, storage_for

DAY_US = 86_400 * 1_000_000


def attached(sha2):
    return [
        {
            "usageType": "http://example.org/notes",
            "display": {"en": "notes"},
            "contentType": "text/plain",
            "length": 4,
            "sha2": sha2,
            "fileUrl": "http://example.org/notes.txt",
        }
    ]


def stored(storage, n, days_ago, **fields):
    """A statement of learner n % 2, stored ``days_ago`` days ago, with its progress."""
    data = {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": {"mbox": f"mailto:learner{n % 2}@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.org/lesson"},
        **fields,
    }
    record = prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
        default_clock.now_us() - int(days_ago * DAY_US)
    )
    storage.statements.save([record])
    storage.progress.record([event_of(data, record.id, record.stored_us)])
    return record


@pytest.fixture(params=BACKENDS)
def storage(request, tmp_path):
    from lrs.usecases.storage import open_storage

    found = storage_for(request.param, tmp_path) or open_storage("memory://")
    yield found
    found.close()


def records(storage):
    return storage.progress.summaries(), storage.progress.sessions()


def test_statements_older_than_the_age_go_with_their_progress_and_unused_data(storage):
    old_only, shared = hashlib.sha256(b"old").hexdigest(), hashlib.sha256(b"both").hexdigest()
    storage.attachments.put(
        [
            AttachmentData(old_only, "text/plain", b"old"),
            AttachmentData(shared, "text/plain", b"both"),
        ]
    )
    for n in range(6):
        stored(storage, n, 40 - n)  # 40 to 35 days ago
    stored(storage, 6, 31, attachments=attached(old_only))
    stored(storage, 7, 31, attachments=attached(shared))
    stored(storage, 8, 2, attachments=attached(shared))
    kept = [stored(storage, 9 + n, 29 - n) for n in range(3)]
    plan = purge_statements(storage, 30, credential="cli", dry_run=True)
    assert plan.counts == {"statements": 8} and storage.statements.count() == 12
    assert storage.erasures.list() == []  # a dry run keeps no record

    done = purge_statements(storage, 30, credential="key-1")

    assert done.counts == {"statements": 8, "attachments": 1}
    assert done.kind == "purge" and done.finished is not None
    assert storage.erasures.list() == [done]
    assert storage.statements.count() == 4
    for n in range(8):
        assert storage.statements.get(str(uuid.UUID(int=n + 1))) is None
    assert all(storage.statements.get(record.id) == record for record in kept)
    assert storage.attachments.get(old_only) is None
    assert storage.attachments.get(shared) is not None  # statement 8 still names it
    # The progress kept is what the statements left give.
    now = records(storage)
    rebuild(storage.progress, storage.statements)
    assert records(storage) == now
    assert purge_statements(storage, 30, credential="cli").counts["statements"] == 0


@pytest.mark.parametrize("days", [-1, True, 2.5, "30"])
def test_a_bad_age_is_refused_and_nothing_changes(storage, days):
    stored(storage, 0, 100)
    with pytest.raises(InvalidInput, match="days"):
        purge_statements(storage, days, credential="cli")
    assert storage.statements.count() == 1 and storage.erasures.list() == []


def test_the_purge_command(tmp_path):
    from click.testing import CliRunner

    from lrs.cli import main
    from lrs.usecases.storage import open_storage

    url = f"sqlite:///{tmp_path}/lrs.db"
    storage = open_storage(url)
    for n in range(3):
        stored(storage, n, 10 * n)  # 0, 10 and 20 days ago
    storage.close()
    runner = CliRunner()
    dry = runner.invoke(
        main, ["purge", "statements", "--older-than", "5", "--dry-run", "--storage", url]
    )
    assert dry.exit_code == 0, dry.output
    assert "Would remove 2 statements." in dry.output
    done = runner.invoke(main, ["purge", "statements", "--older-than", "5", "--storage", url])
    assert done.exit_code == 0, done.output
    assert "Removed 2 statements and 0 attachments" in done.output
    negative = runner.invoke(main, ["purge", "statements", "--older-than", "-1", "--storage", url])
    assert negative.exit_code == 2
    listed = runner.invoke(main, ["learners", "erasures", "--storage", url])
    assert "purge, finished" in listed.output
    with open_storage(url) as reopened:
        assert reopened.statements.count() == 1
