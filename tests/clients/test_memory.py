import pytest

from lrs.clients import MemoryUserStateClient, Scope, ServiceUnavailable
from lrs.history import MemoryHistoryLog
from lrs.testing import StoredUserStateClientContract, block, user


class TestMemoryUserStateClient(StoredUserStateClientContract):
    @pytest.fixture
    def client(self):
        return MemoryUserStateClient()


class FailingHistory(MemoryHistoryLog):
    def append(self, entries):
        raise ServiceUnavailable("history store down")


class TestMemoryFailures:
    def test_failing_history_leaves_state_untouched(self):
        client = MemoryUserStateClient(FailingHistory())
        with pytest.raises(ServiceUnavailable):
            client.set(user(0), block(0), {"a": 1})
        with pytest.raises(client.DoesNotExist):
            client.get(user(0), block(0))
        assert list(client.iter_all_for_block(block(0))) == []


class _Removals(dict):
    """The records of a client, noting every key taken out of them."""

    removed: list

    def pop(self, key, *default):
        self.removed.append(key)
        return super().pop(key, *default)

    def __delitem__(self, key):
        self.removed.append(key)
        super().__delitem__(key)


def test_a_block_being_replaced_never_disappears_for_readers():
    # Readers take no lock: a replaced record must be swapped in one step,
    # or a concurrent read answers 404 for a block that exists.
    client = MemoryUserStateClient()
    client.set(user(0), block(0), {"count": 1})
    records = _Removals(client._records)
    records.removed = []
    client._records = records
    client.set(user(0), block(0), {"count": 2})
    client.set_many(user(0), {block(0): {"count": 3}, block(1): {"count": 1}})
    assert records.removed == []
    client.delete(user(0), block(1))
    assert records.removed == [(user(0), Scope.user_state, str(block(1)))]
    assert client.get(user(0), block(0)).state == {"count": 3}
