"""The contract of attachment stores: data kept once per SHA-2, never overwritten."""

import hashlib

from lrs.xapi.attachments import AttachmentData, AttachmentStore

DATA = b"\x00binary\xff data of an attachment"
SHA = hashlib.sha256(DATA).hexdigest()


class AttachmentStoreContract:
    """The behaviour every attachment store must have.

    Subclasses supply an ``attachments`` fixture returning an empty store.
    """

    def test_data_comes_back_by_its_hash_in_any_case(self, attachments: AttachmentStore) -> None:
        attachments.put([AttachmentData(SHA, "application/octet-stream", DATA)])
        expected = AttachmentData(SHA, "application/octet-stream", DATA)
        assert attachments.get(SHA) == expected
        assert attachments.get(SHA.upper()) == expected
        assert attachments.get("0" * 64) is None

    def test_data_is_never_overwritten(self, attachments: AttachmentStore) -> None:
        attachments.put([AttachmentData(SHA, "application/octet-stream", DATA)])
        attachments.put([AttachmentData(SHA, "text/plain", b"something else")])
        found = attachments.get(SHA)
        assert found == AttachmentData(SHA, "application/octet-stream", DATA)

    def test_many_at_once_and_none_at_all(self, attachments: AttachmentStore) -> None:
        items = [
            AttachmentData(hashlib.sha256(bytes([n])).hexdigest(), "x/y", bytes([n]))
            for n in range(20)
        ]
        attachments.put(items)
        attachments.put([])
        for item in items:
            assert attachments.get(item.sha2) == item

    def test_deleted_data_is_gone_and_other_data_stays(self, attachments: AttachmentStore) -> None:
        other = AttachmentData(hashlib.sha256(b"other").hexdigest(), "x/y", b"other")
        attachments.put([AttachmentData(SHA, "x/y", DATA), other])
        assert attachments.delete([SHA.upper(), "0" * 64]) == 1
        assert attachments.get(SHA) is None
        assert attachments.get(other.sha2) == other
        assert attachments.delete([]) == 0

    def test_the_same_hash_twice_in_one_call_is_kept_once(
        self, attachments: AttachmentStore
    ) -> None:
        data = b"twice"
        sha2 = hashlib.sha256(data).hexdigest()
        attachments.put(
            [AttachmentData(sha2, "text/plain", data), AttachmentData(sha2, "text/plain", data)]
        )
        assert attachments.delete([sha2, sha2.upper()]) == 1
        assert attachments.get(sha2) is None
