"""Reading statements to import: from a file, or from another LRS page by page.

A file holds newline-delimited JSON (one statement a line: what ``lrs export
statements`` writes), a JSON array of statements, or an xAPI StatementResult
(``{"statements": [...], "more": ...}``, ``more`` ignored). NDJSON is read a
line at a time, so a file of any size takes little memory; the other two are
one JSON text and are read whole.

Each item read is an ``Item``: where it was (``line 12``, ``statements[3]``)
and the statement, or why it could not be read.
"""

import itertools
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


def read_statements(stream: IO[bytes], max_line: int = 4_000_000) -> Iterator[Item]:
    """The statements of a file (NDJSON, a JSON array, or a StatementResult), in order.

    A line of NDJSON that is not JSON, or longer than ``max_line`` bytes (not
    read whole), is an item with an error, and the rest are read on, the
    first line as any other; a JSON array or StatementResult that is not JSON
    raises.

    Raises:
        UnreadableFile: the file is neither NDJSON nor one JSON text of statements.
    """
    lines = _lines(stream, max_line)
    number, first = _next_line(lines, 0)
    if first is None:
        return
    first = first.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as spreadsheets write
    start = first.lstrip()[:1]
    if start == b"[":
        yield from _whole(first + stream.read(), "statements")
        return
    head = [(number, first)]
    if first is not _TOO_LONG and start != b"{":
        # NDJSON whose first line is broken goes on with an object; a file of
        # another kind (a CSV export) does not.
        number, second = _next_line(lines, number)
        if second is None or second.lstrip()[:1] != b"{":
            raise UnreadableFile(_not_statements(first))
        head.append((number, second))
    if start == b"{":
        try:
            value = strict_json.loads(first)
        except strict_json.JSONError:
            # One JSON text over many lines, or NDJSON whose first line is
            # broken: the next line tells (an object alone on it: NDJSON).
            number, second = _next_line(lines, number)
            if second is None or not _is_object(second):
                rest = b"" if second is None else second + stream.read()
                yield from _whole(first + rest, "statements")
                return
            head.append((number, second))
        else:
            if isinstance(value, dict) and "statements" in value and "actor" not in value:
                yield from _whole(first + stream.read(), "statements")
                return
    # Newline-delimited JSON: line numbers count from the file's first line.
    for at, line in itertools.chain(head, _numbered(lines, number)):
        where = f"line {at}"
        if line is _TOO_LONG:
            yield Item(where, error=f"the line is longer than {max_line:,} bytes")
            continue
        try:
            yield Item(where, strict_json.loads(line, "statement"))
        except strict_json.JSONError as exc:
            yield Item(where, error=f"not JSON: {exc}")


def _not_statements(first: bytes) -> str:
    """Why a file is no statements, in one line: what it seems to be, and what is read."""
    what = "CSV" if b"," in first else "not JSON"
    said = (
        f"the file is {what}, not statements: lrs import statements reads NDJSON (one "
        "statement a line, what lrs export statements writes by default), a JSON array "
        "of statements or an xAPI StatementResult"
    )
    return said + ("; a CSV export is for people, not for import" if what == "CSV" else "")


# A line cut short because it is longer than the limit (its bytes are skipped).
_TOO_LONG = b"\x00too long"


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes]:
    """The lines of ``stream``, each read up to ``limit`` bytes: longer ones are ``_TOO_LONG``."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of it
                line = stream.readline(1 << 20)
            yield _TOO_LONG
            continue
        yield line


def _next_line(lines: Iterator[bytes], number: int) -> tuple[int, bytes | None]:
    """The next line that is not blank, with its number (``None`` at the end)."""
    for line in lines:
        number += 1
        if line is _TOO_LONG or line.strip():
            return number, line
    return number, None


def _numbered(lines: Iterator[bytes], number: int) -> Iterator[tuple[int, bytes]]:
    for line in lines:
        number += 1
        if line is _TOO_LONG or line.strip():
            yield number, line


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(strict_json.loads(line), dict)
    except strict_json.JSONError:
        return False


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
