import hashlib

import mongomock
import pytest

from lrs.testing import AttachmentStoreContract
from lrs.xapi.attachments import (
    MemoryAttachmentStore,
    MongoAttachmentStore,
    Part,
    attachment_parts,
    sha2_matches,
)
from lrs.xapi.attachments.sqlite import SqliteAttachmentStore

DATA = b"\x00binary\xff"
SHA = hashlib.sha256(DATA).hexdigest()


class TestMemoryAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachments(self):
        return MemoryAttachmentStore()


class TestSqliteAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachments(self, sqlite_database):
        return SqliteAttachmentStore(sqlite_database)


class TestMongoAttachmentStore(AttachmentStoreContract):
    @pytest.fixture
    def attachments(self):
        return MongoAttachmentStore(mongomock.MongoClient(tz_aware=True).lrs_test)


def test_hashes_of_every_sha2_length_are_checked():
    for algorithm in (hashlib.sha256, hashlib.sha384, hashlib.sha512):
        assert sha2_matches(algorithm(DATA).hexdigest().upper(), DATA)
        assert not sha2_matches(algorithm(b"other").hexdigest(), DATA)
    assert not sha2_matches(hashlib.sha1(DATA).hexdigest(), DATA)


BINARY = {"content-transfer-encoding": "binary"}


def test_parts_name_the_part_that_is_wrong():
    good = Part({"x-experience-api-hash": SHA, **BINARY}, DATA)
    with pytest.raises(ValueError, match="part 3 has no X-Experience-API-Hash"):
        attachment_parts([good, Part(BINARY, DATA)])
    assert list(attachment_parts([good])) == [SHA]


@pytest.mark.parametrize("encoding", [None, "base64", "8bit"])
def test_every_attachment_part_is_sent_as_binary(encoding):
    headers = {"x-experience-api-hash": SHA}
    if encoding is not None:
        headers["content-transfer-encoding"] = encoding
    with pytest.raises(
        ValueError, match="part 2 needs the header Content-Transfer-Encoding: binary"
    ):
        attachment_parts([Part(headers, DATA)])
    assert attachment_parts([Part({**headers, "content-transfer-encoding": "Binary"}, DATA)])
