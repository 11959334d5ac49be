"""Reading statements to import: from a file, or from another LRS page by page.

A file holds newline-delimited JSON (one statement a line: what ``lrs export
statements`` writes), a JSON array of statements, or an xAPI StatementResult
(``{"statements": [...], "more": ...}``, ``more`` ignored). NDJSON is read a
line at a time, so a file of any size takes little memory; the other two are
one JSON text and are read whole.

Each item read is an ``Item``: where it was (``line 12``, ``statements[3]``)
and the statement, or why it could not be read.
"""

from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from lrs import strict_json
from lrs.exceptions import InvalidInput


class Item(NamedTuple):
    """One statement read: where it was, and the statement or the reason it is unreadable."""

    where: str
    statement: Any = None
    error: str = ""


class UnreadableFile(InvalidInput):
    """The file as a whole cannot be read (not JSON, not statements): nothing is imported."""


def read_statements(stream: IO[bytes]) -> Iterator[Item]:
    """The statements of a file (NDJSON, a JSON array, or a StatementResult), in order.

    A line of NDJSON that is not JSON is an item with an error (the rest are
    read on); a JSON array or StatementResult that is not JSON raises.

    Raises:
        UnreadableFile: the file is neither NDJSON nor one JSON text of statements.
    """
    first = stream.readline()
    blank = 0
    while first and not first.strip():
        blank += 1
        first = stream.readline()
    if not first:
        return
    start = first.lstrip()[:1]
    if start == b"[":
        yield from _whole(first + stream.read(), "statements")
        return
    if start == b"{":
        try:
            value = strict_json.loads(first)
        except strict_json.JSONError:
            # Not one object on the first line: one JSON text over many lines.
            yield from _whole(first + stream.read(), "statements")
            return
        if isinstance(value, dict) and "statements" in value and "actor" not in value:
            yield from _whole(first + stream.read(), "statements")
            return
    # Newline-delimited JSON: line numbers count from the file's first line.
    for number, line in enumerate(_chain(first, stream), start=blank + 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            yield Item(where, strict_json.loads(line, "statement"))
        except strict_json.JSONError as exc:
            yield Item(where, error=f"not JSON: {exc}")


def _chain(first: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    # The stream may be a pipe, which cannot seek back to ``first``.
    yield first
    yield from stream


def _whole(data: bytes, name: str) -> Iterator[Item]:
    try:
        value = strict_json.loads(data, name)
    except strict_json.JSONError as exc:
        raise UnreadableFile(f"the file is not JSON: {exc}") from None
    if isinstance(value, dict):
        if "statements" not in value:
            # One statement alone.
            yield Item("statement", value)
            return
        value = value["statements"]
        if not isinstance(value, list):
            raise UnreadableFile("the StatementResult's statements are not an array")
    for index, statement in enumerate(value):
        yield Item(f"statements[{index}]", statement)
