"""Attachments sent with statements (xAPI-Data.md 2.4.11; xAPI-Communication.md 1.5.2).

A ``multipart/mixed`` request carries the statements in its first part and
one attachment's raw data in each later part, named by its SHA-2 in the
``X-Experience-API-Hash`` header. Data is matched to attachments only by that
hash, and kept once per hash (content-addressed), whichever statements use it.
"""

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lrs.closeable import Closeable
from lrs.exceptions import InvalidInput

_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


@dataclass(frozen=True)
class Part:
    """One part of a multipart body: its headers (lower-case names) and data."""

    headers: dict[str, str]
    data: bytes


@dataclass(frozen=True)
class AttachmentData:
    """An attachment's raw data, as stored."""

    sha2: str
    content_type: str
    data: bytes


def sha2_matches(declared: str, data: bytes) -> bool:
    """Whether ``data`` has the SHA-2 (256, 384 or 512, in hex) that is declared."""
    algorithm = _HASHES.get(len(declared))
    return algorithm is not None and algorithm(data).hexdigest() == declared.lower()


def attachment_parts(parts: Iterable[Part]) -> dict[str, AttachmentData]:
    """Check the attachment parts of a request and key them by hash.

    Raises:
        InvalidInput: a part is not ``Content-Transfer-Encoding: binary``, has no
            ``X-Experience-API-Hash`` header, or its data does not have the
            hash it declares.
    """
    found = {}
    # Part 1 holds the statements; attachments start at part 2.
    for number, part in enumerate(parts, start=2):
        encoding = part.headers.get("content-transfer-encoding", "").strip().lower()
        if encoding != "binary":
            # Communication 1.5.2: each attachment part is sent as binary.
            raise InvalidInput(
                f"multipart part {number} needs the header Content-Transfer-Encoding: binary"
            )
        declared = part.headers.get("x-experience-api-hash", "").strip().lower()
        if not declared:
            raise InvalidInput(f"multipart part {number} has no X-Experience-API-Hash header")
        if not sha2_matches(declared, part.data):
            raise InvalidInput(
                f"multipart part {number}: its data does not have the SHA-2 {declared!r} "
                "of its X-Experience-API-Hash header"
            )
        content_type = part.headers.get("content-type", "application/octet-stream")
        found[declared] = AttachmentData(declared, content_type, part.data)
    return found


def check_statement_attachments(
    statements: list[dict[str, Any]], received: dict[str, AttachmentData], paths: list[str]
) -> set[str]:
    """Match attachments and received parts one to one by SHA-2; return the hashes used.

    Raises:
        InvalidInput: an attachment has neither a fileUrl nor a received part
            with its SHA-2, or a part has the SHA-2 of no attachment
            (Communication 1.5.2, LRS Requirements: excess parts are refused).
    """
    used = set()
    for statement, path in zip(statements, paths, strict=True):
        if not isinstance(statement, dict):
            continue
        for index, attachment in enumerate(statement.get("attachments") or []):
            if not isinstance(attachment, dict):
                continue
            sha2 = str(attachment.get("sha2", "")).lower()
            if sha2 in received:
                used.add(sha2)
            elif "fileUrl" not in attachment:
                raise InvalidInput(
                    f"{path}.attachments[{index}]: no fileUrl, and no multipart part has its "
                    f"SHA-2 {sha2!r}"
                )
    excess = sorted(received.keys() - used)
    if excess:
        raise InvalidInput(
            f"a multipart part has the SHA-2 {excess[0]!r} of no attachment of the statements"
        )
    return used


class AttachmentStore(Closeable, ABC):
    """Keeps attachment data by SHA-2 (hashes in lower case, each kept once)."""

    def put(self, attachments: Iterable[AttachmentData]) -> None:
        """Store data (storing the same hash again changes nothing)."""
        unique = {item.sha2: item for item in attachments}
        if unique:
            self._put([unique[sha2] for sha2 in sorted(unique)])

    def get(self, sha2: str) -> AttachmentData | None:
        """Return the data with this hash, or ``None``."""
        return self._get(sha2.lower())

    def delete(self, hashes: Iterable[str]) -> int:
        """Remove the data with these hashes (no statement uses it any more); return how many."""
        wanted = sorted({sha2.lower() for sha2 in hashes})
        return self._delete(wanted) if wanted else 0

    @abstractmethod
    def _put(self, attachments: list[AttachmentData]) -> None:
        """Keep each, unless its hash is kept already (one of each hash, sorted)."""

    @abstractmethod
    def _get(self, sha2: str) -> AttachmentData | None:
        """The data of this (lower-case) hash, or ``None``."""

    @abstractmethod
    def _delete(self, hashes: list[str]) -> int:
        """Remove the data of these (lower-case, distinct) hashes; return how many were kept."""
