import pytest

from lrs.clients import MemoryUserStateClient, ServiceUnavailable
from lrs.history import MemoryHistoryLog
from lrs.testing import UserStateClientContract, block, user


class TestMemoryUserStateClient(UserStateClientContract):
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
