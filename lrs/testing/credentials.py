"""The contract of credential stores."""

from typing import Any

import pytest

from lrs.credentials.base import CredentialStore, Role
from lrs.exceptions import DoesNotExist


class CredentialStoreContract:
    """The behaviour every credential store must have.

    Subclasses supply a ``store`` fixture returning an empty store.
    """

    def test_created_credential_authenticates_with_its_secret(self, store: CredentialStore) -> None:
        credential, secret = store.create(Role.service, name="lms")
        assert len(secret) >= 32
        assert store.authenticate(credential.key, secret) == credential
        assert credential.role == Role.service
        assert credential.name == "lms"
        assert credential.active

    def test_wrong_secret_or_unknown_key_does_not_authenticate(
        self, store: CredentialStore
    ) -> None:
        credential, secret = store.create(Role.admin)
        assert store.authenticate(credential.key, secret + "x") is None
        assert store.authenticate(credential.key, "") is None
        assert store.authenticate("unknown-key", secret) is None
        assert store.authenticate("", secret) is None

    def test_the_secret_is_not_stored(self, store: CredentialStore) -> None:
        credential, secret = store.create(Role.admin)
        stored = store._find(credential.key)
        assert stored is not None
        assert secret not in repr(stored)

    def test_revoked_credential_no_longer_authenticates_but_stays_listed(
        self, store: CredentialStore
    ) -> None:
        credential, secret = store.create(Role.service)
        revoked = store.revoke(credential.key)
        assert revoked.revoked is not None
        assert store.authenticate(credential.key, secret) is None
        assert store.list() == []
        assert [c.key for c in store.list(include_revoked=True)] == [credential.key]
        assert store.revoke(credential.key) == revoked

    def test_an_erased_users_credentials_are_revoked_and_kept_under_the_pseudonym(
        self, store: CredentialStore
    ) -> None:
        tablet, secret = store.create(Role.learner, username="ada", name="Ada's tablet")
        old = store.revoke(store.create(Role.learner, username="ada")[0].key)
        other, other_secret = store.create(Role.learner, username="bob", name="bob")
        assert [item.key for item in store.of_user("ada")] == [tablet.key, old.key]
        assert store.retire_user("ada", "retired-1a2b") == 2
        assert store.authenticate(tablet.key, secret) is None
        kept = {item.key: item for item in store.list(include_revoked=True)}
        assert (kept[tablet.key].username, kept[tablet.key].name) == ("retired-1a2b", "")
        assert kept[old.key].revoked == old.revoked  # revoked before: its time stays
        assert store.authenticate(other.key, other_secret) == other
        assert store.retire_user("ada", "retired-1a2b") == 0

    def test_revoking_an_unknown_key_raises_does_not_exist(self, store: CredentialStore) -> None:
        with pytest.raises(DoesNotExist):
            store.revoke("unknown-key")

    def test_list_is_oldest_first(self, store: CredentialStore) -> None:
        keys = [store.create(Role.service, name=str(n))[0].key for n in range(3)]
        assert [credential.key for credential in store.list()] == keys
        assert store.count() == 3

    def test_user_roles_need_a_username(self, store: CredentialStore) -> None:
        for role in (Role.learner, Role.coach):
            with pytest.raises(ValueError, match="username"):
                store.create(role)
        credential, _ = store.create(Role.learner, username="ada")
        assert credential.username == "ada"

    @pytest.mark.parametrize(
        "arguments",
        [
            pytest.param({"role": "root"}, id="unknown-role"),
            pytest.param({"role": "admin", "key": "short"}, id="short-key"),
            pytest.param({"role": "admin", "key": "bad key with spaces"}, id="bad-key"),
            pytest.param({"role": "admin", "secret": "short"}, id="short-secret"),
            pytest.param({"role": "learner", "username": ""}, id="empty-username"),
        ],
    )
    def test_malformed_credentials_are_refused(
        self, store: CredentialStore, arguments: dict[str, Any]
    ) -> None:
        with pytest.raises(ValueError):
            store.create(**arguments)
        assert store.count() == 0

    def test_a_key_cannot_be_created_twice(self, store: CredentialStore) -> None:
        store.create(Role.admin, key="fixed-key-1", secret="s" * 20)
        with pytest.raises(ValueError, match="exists"):
            store.create(Role.service, key="fixed-key-1", secret="t" * 20)
        assert store.get("fixed-key-1").role == Role.admin

    def test_ensure_makes_exactly_that_key_and_secret_work(self, store: CredentialStore) -> None:
        secret, other = "automation-secret-" + "0" * 20, "another-secret-" + "1" * 20
        first = store.ensure("automation-key", secret)
        assert store.ensure("automation-key", secret) == first
        assert store.authenticate("automation-key", secret) == first
        assert first.role == Role.admin
        store.ensure("automation-key", other)
        assert store.authenticate("automation-key", secret) is None
        assert store.authenticate("automation-key", other) is not None
        assert store.count() == 1

    def test_ensure_refuses_a_short_chosen_secret(self, store: CredentialStore) -> None:
        with pytest.raises(ValueError, match="at least 32 characters"):
            store.ensure("automation-key", "x" * 31)
        assert store.count() == 0

    def test_a_sign_in_session_finds_its_credential_until_it_is_closed(
        self, store: CredentialStore
    ) -> None:
        credential, _ = store.create(Role.admin)
        token = store.open_session(credential.key)
        other = store.open_session(credential.key)
        assert token != other and len(token) >= 32
        assert store.session_key(token) == credential.key
        assert store._find_session(token) is None  # kept as a digest only
        store.close_session(token)
        assert store.session_key(token) is None
        assert store.session_key(other) == credential.key  # another device stays in
        store.close_session(token)  # again: nothing happens
        for wrong in ("", None, 7, "not-a-token"):
            assert store.session_key(wrong) is None

    def test_a_sign_in_session_ends_with_its_lifetime_and_is_dropped_later(
        self, store: CredentialStore
    ) -> None:
        from lrs.clock import default_clock

        credential, _ = store.create(Role.admin)
        over = store.open_session(credential.key, lifetime_s=-1)
        assert store.session_key(over) is None
        fresh = store.open_session(credential.key)  # drops the sessions that are over
        assert store._find_session(digest_of(over)) is None
        assert store._find_session(digest_of(fresh)) is not None
        kept = store._find_session(digest_of(fresh))
        assert kept is not None and default_clock.now_us() < kept[1]


def digest_of(token: str) -> str:
    """The digest a session's token is kept as."""
    from lrs.credentials.base import digest

    return digest(token)
