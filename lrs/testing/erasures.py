"""The contract of erasure record stores: the salt, and one record per pseudonym."""

from datetime import UTC, datetime

from lrs.erasure.base import Erasure, ErasureStore, pseudonym_of
from lrs.testing.helpers import failures, race


class ErasureStoreContract:
    """The behaviour every erasure record store must have.

    Subclasses supply an ``erasures`` fixture returning an empty store.
    """

    def test_the_salt_is_made_once_whoever_asks_first(self, erasures: ErasureStore) -> None:
        outcomes = race(*[erasures.salt for _ in range(8)])
        assert failures(outcomes) == []
        salts = {outcome for outcome in outcomes}
        assert len(salts) == 1
        (salt,) = salts
        assert isinstance(salt, bytes) and len(salt) == 32
        assert erasures.salt() == salt
        assert pseudonym_of("ada", salt) == pseudonym_of("ada", erasures.salt())
        assert pseudonym_of("ada", salt) != pseudonym_of("bob", salt)
        other = erasures.secret("dashboard-key")
        assert len(other) == 32 and other != salt and erasures.secret("dashboard-key") == other

    def test_records_are_kept_by_pseudonym_and_listed_oldest_first(
        self, erasures: ErasureStore
    ) -> None:
        first = Erasure(
            "retired-b", datetime(2026, 1, 2, tzinfo=UTC), "cli", "ticket 1", "pseudonymized"
        )
        second = Erasure(
            "retired-a", datetime(2026, 1, 3, tzinfo=UTC), "key-1", "ticket 2", "pseudonymized"
        )
        erasures.put(second)
        erasures.put(first)
        assert erasures.get("retired-a") == second
        assert erasures.get("retired-c") is None
        finished = Erasure(
            first.pseudonym,
            first.started,
            first.credential,
            first.reason,
            first.statements,
            datetime(2026, 1, 2, 0, 1, tzinfo=UTC),
            {"statements": 3, "users": 1},
        )
        erasures.put(finished)
        assert erasures.list() == [finished, second]

    def test_erased_identities_are_found_with_their_stand_in_and_kept_as_hashes_only(
        self, erasures: ErasureStore
    ) -> None:
        ada = {"account": {"homePage": "http://x", "name": "retired-a"}}
        erasures.erase_identities(["mbox:mailto:ada@example.org", "account:http://x|ada"], ada)
        erasures.erase_identities(["mbox:mailto:ada@example.org"], ada)  # again: no change
        keys = ["mbox:mailto:ada@example.org", "account:http://x|ada", "mbox:mailto:bob@x.org"]
        assert erasures.erased_identities(keys) == {key: ada for key in keys[:2]}
        assert erasures.erased_identities([]) == {}
        assert erasures.erased_identities(["mbox:mailto:bob@x.org"]) == {}
        # The store holds keyed hashes: no key can be read back from it.
        kept = erasures._identities([erasures._digest(key) for key in keys])
        assert len(kept) == 2
        assert all(len(digest) == 64 and set(digest) <= set("0123456789abcdef") for digest in kept)
        assert not any("ada@" in text or "|ada" in text for text in kept.values())
