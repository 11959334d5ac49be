"""A learner's retirement on MongoDB never changes a shard key in place (docs/mongodb.md).

``username`` is the documented shard key of ``enrollments`` and
``enrollment_changes``; a sharded cluster refuses an update that changes it.
The fake below refuses the same, and the writer dies between steps: a rerun
finishes, with nothing doubled and nothing of the old name left.
"""

import mongomock
import pytest

from lrs.enrollments import MongoEnrollmentStore


class Died(Exception):
    """The process ended here."""


class ShardedCollection:
    """A collection that refuses, as a sharded cluster does, to change ``username`` in place."""

    def __init__(self, inner, die_at=None):
        self._inner = inner
        self.die_at = die_at

    def __getattr__(self, name):
        found = getattr(self._inner, name)
        if name in ("update_one", "update_many", "replace_one", "find_one_and_update"):

            def checked(filter, update, *args, **kwargs):
                changed = update.get("$set", {}) if isinstance(update, dict) else update
                if "username" in changed:
                    raise AssertionError(f"{name} changes the shard key username")
                return found(filter, update, *args, **kwargs)

            return checked
        if name == self.die_at:

            def dying(*args, **kwargs):
                raise Died(name)

            return dying
        return found


def store_on(database, die_at=None):
    store = MongoEnrollmentStore(database)
    store._enrollments = ShardedCollection(store._enrollments, die_at)
    store._changes = ShardedCollection(store._changes, die_at)
    return store


@pytest.mark.parametrize("die_at", [None, "delete_many"])
def test_retiring_copies_then_deletes_and_a_rerun_finishes(die_at):
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    setup = MongoEnrollmentStore(database)
    setup.create_user("ada", {"full_name": "Ada Lovelace", "email": "ada@x.org"}, actor="t")
    for course in ("course-v1:O+A+1", "course-v1:O+B+1"):
        setup.enroll("ada", course, actor="t")
    changes_before = database.enrollment_changes.count_documents({})
    if die_at is not None:
        with pytest.raises(Died):
            store_on(database, die_at).retire_user("ada", "retired-1", "r@retired.invalid")
    assert store_on(database).retire_user("ada", "retired-1", "r@retired.invalid")
    assert database.enrollments.count_documents({"username": "ada"}) == 0
    assert database.enrollments.count_documents({"username": "retired-1"}) == 2
    assert database.enrollment_changes.count_documents({"username": "ada"}) == 0
    assert database.enrollment_changes.count_documents({}) == changes_before
    texts = str(list(database.enrollment_changes.find())) + str(list(database.users.find()))
    assert "Ada Lovelace" not in texts and "ada@x.org" not in texts
