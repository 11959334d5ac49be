"""Reading and writing ``multipart/mixed`` bodies (RFC 2046) for statements with attachments."""

import uuid
from collections.abc import Iterable

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from lrs.exceptions import InvalidInput
from lrs.patterns import Whole
from lrs.xapi.attachments import AttachmentData, Part

# RFC 2046 section 5.1.1: bchars, 1 to 70 of them, the last not a space.
_BOUNDARY = Whole(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def parse(body: bytes, boundary: str) -> list[Part]:
    """Split a multipart body into its parts.

    Raises:
        InvalidInput: the body is not multipart with this boundary, or has no part.
    """
    if not _BOUNDARY(boundary):
        raise InvalidInput(
            "the multipart boundary must be 1 to 70 letters, digits or '()+_,-./:=? "
            "(RFC 2046 section 5.1.1), not ending in a space"
        )
    parts: list[Part] = []
    headers: dict[str, str] = {}
    data = bytearray()
    field = bytearray()
    value = bytearray()

    def begin() -> None:
        headers.clear()
        data.clear()

    def header_field(chunk: bytes, start: int, end: int) -> None:
        field.extend(chunk[start:end])

    def header_value(chunk: bytes, start: int, end: int) -> None:
        value.extend(chunk[start:end])

    def header_end() -> None:
        headers[field.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
        field.clear()
        value.clear()

    def part_data(chunk: bytes, start: int, end: int) -> None:
        data.extend(chunk[start:end])

    def end() -> None:
        parts.append(Part(dict(headers), bytes(data)))

    parser = MultipartParser(
        boundary.encode("latin-1"),
        callbacks={
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_part_data": part_data,
            "on_part_end": end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise InvalidInput(f"the multipart body cannot be read: {exc}") from None
    if not parts:
        raise InvalidInput("the multipart body has no parts")
    return parts


def build(first: bytes, attachments: Iterable[AttachmentData]) -> tuple[bytes, str]:
    """Write a statement result and attachment data as multipart; return body and boundary."""
    boundary = uuid.uuid4().hex
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        first,
        b"\r\n",
    ]
    for attachment in attachments:
        chunks += [
            f"--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {attachment.sha2}\r\n\r\n".encode(),
            attachment.data,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), boundary
