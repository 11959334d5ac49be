import inspect

import pytest

import lrs.clients
from lrs.clients import (
    HttpUserStateClient,
    MemoryUserStateClient,
    MongoUserStateClient,
    UserStateClient,
    connect,
)
from lrs.clients.base import StoredUserStateClient
from lrs.history import MemoryHistoryLog, MongoHistoryLog
from lrs.testing import COURSE, block, user


def test_all_lists_every_public_name():
    public = {
        name
        for name, value in vars(lrs.clients).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    # The SQLite and MongoDB backends are imported on first use: not in vars().
    assert set(lrs.clients.__all__) - public == {"MongoUserStateClient", "SqliteUserStateClient"}
    assert public <= set(lrs.clients.__all__)
    for name in lrs.clients.__all__:
        assert getattr(lrs.clients, name) is not None


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        ("memory://", MemoryUserStateClient),
        ("mongomock://", MongoUserStateClient),
        ("mongomock://localhost/named", MongoUserStateClient),
    ],
)
def test_connect_opens_each_backend(url, cls):
    with connect(url) as client:
        assert isinstance(client, cls)
        client.set(user(0), block(0), {"a": 1})
        assert client.get(user(0), block(0)).state == {"a": 1}


def test_bare_mongomock_url_gives_a_fresh_database_each_time():
    first = connect("mongomock://")
    first.set(user(0), block(0), {"a": 1})
    second = connect("mongomock://")
    with pytest.raises(second.DoesNotExist):
        second.get(user(0), block(0))


def test_named_mongomock_url_is_shared():
    first = connect("mongomock://localhost/shared_factory_test")
    first.set(user(0), block(0), {"a": 1})
    second = connect("mongomock://localhost/shared_factory_test")
    assert second.get(user(0), block(0)).state == {"a": 1}
    other = connect("mongomock://localhost/another_factory_test")
    with pytest.raises(other.DoesNotExist):
        other.get(user(0), block(0))


@pytest.mark.parametrize("url", ["redis://localhost", "memory", "", "postgres://x/y"])
def test_unknown_scheme_lists_the_known_ones(url):
    with pytest.raises(
        ValueError,
        match=r"known: memory://, mongodb://, mongodb\+srv://, mongomock://, http://, https://",
    ):
        connect(url)


def test_history_url_puts_history_in_another_store():
    client = connect("mongomock://", history_url="memory://")
    assert isinstance(client.history, MemoryHistoryLog)
    client.set(user(0), block(0), {"a": 1})
    assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"a": 1}]
    assert isinstance(connect("memory://", history_url="mongomock://").history, MongoHistoryLog)


@pytest.mark.parametrize("url", ["memory://", "mongomock://"])
def test_key_parser_rebuilds_keys_for_course_iteration(url):
    client = connect(url, key_parser=lambda text: ("parsed", text))
    client.set(user(0), block(0), {"a": 1})
    assert [result.block_key for result in client.iter_all_for_course(COURSE)] == [
        ("parsed", block(0))
    ]


def test_a_backend_missing_a_hook_cannot_be_created():
    class Incomplete(UserStateClient):
        def _get_many(self, username, scope, blocks, fields):
            return iter(())

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_every_hook_is_implemented_by_each_backend():
    # The public methods check their arguments in the base class, once; a
    # backend implements only these hooks (the writes through one, _apply,
    # when it keeps a store of its own).
    assert UserStateClient.__abstractmethods__ == {
        "_get_many",
        "_set_many",
        "_delete_many",
        "_update",
        "_get_history",
        "_iter_all_for_block",
        "_iter_all_for_course",
    }
    assert StoredUserStateClient.__abstractmethods__ == {
        "_get_many",
        "_apply",
        "_current",
        "_iter_all_for_block",
        "_iter_all_for_course",
        "_count_user",
        "_forget_user",
    }
    for cls in (MemoryUserStateClient, MongoUserStateClient, HttpUserStateClient):
        assert not cls.__abstractmethods__


def test_mongomock_urls_without_mongomock_installed_say_so(monkeypatch):
    import sys

    from lrs.mongo import open_database

    monkeypatch.setitem(sys.modules, "mongomock", None)  # as if not installed
    with pytest.raises(ValueError, match="mongomock package is not installed"):
        open_database("mongomock://")
