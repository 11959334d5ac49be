"""Writing exported records: NDJSON for machines, CSV for people, streamed in chunks.

CSV is UTF-8 (with a byte-order mark when asked: spreadsheet programs read
the file as UTF-8 only with it), with a header line of the kind's columns.
A text cell that a spreadsheet would read as a formula (one that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a
``'`` before it, so that opening an export never runs what a learner typed
(OWASP's advice on CSV injection). Numbers are left as they are: ``-0.5`` is a
number, not a formula.
"""

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lrs.exceptions import InvalidInput
from lrs.usecases.export_kinds import Kind

FORMATS = ("ndjson", "csv")
#: What each format is served as.
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
BOM = "\ufeff".encode()

# Bytes gathered before a chunk is handed on (a network write, a file write).
_CHUNK = 256 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def neutralized(cell: Any) -> str:
    """A cell's text as written to CSV: one a spreadsheet would run as a formula gets a ``'``."""
    if cell is None:
        return ""
    if cell is True or cell is False:
        return "true" if cell else "false"
    if type(cell) is not str:
        return str(cell)
    if cell.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV record (RFC 4180): cells neutralized, quoted when they hold ``",`` or a newline.

    Written by hand rather than by ``csv.writer``, whose quoting goes through
    a statement's JSON a character at a time: three times slower.
    """
    texts = []
    for cell in cells:
        text = neutralized(cell)
        if _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        texts.append(text)
    return ",".join(texts) + "\r\n"


class Counted:
    """The chunks of an export, counting the records written (``rows``)."""

    def __init__(
        self, kind: Kind, records: Iterable[Any], export_format: str, *, bom: bool = False
    ) -> None:
        """Write ``records`` of ``kind`` as ``export_format`` (``ndjson`` or ``csv``).

        Raises:
            InvalidInput: another format.
        """
        if export_format not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {export_format!r}")
        self.rows = 0
        self._kind = kind
        self._records = records
        self._format = export_format
        self._bom = bom

    def __iter__(self) -> Iterator[bytes]:
        """The export's bytes, in chunks of about 256 KB."""
        if self._format == "ndjson":
            return self._ndjson()
        return self._csv()

    def _ndjson(self) -> Iterator[bytes]:
        as_json = self._kind.as_json
        lines: list[bytes] = []
        size = 0
        for record in self._records:
            line = as_json(record)
            lines.append(line)
            size += len(line)
            self.rows += 1
            if size >= _CHUNK:
                lines.append(b"")
                yield b"\n".join(lines)
                lines, size = [], 0
        if lines:
            lines.append(b"")
            yield b"\n".join(lines)

    def _csv(self) -> Iterator[bytes]:
        as_cells = self._kind.as_cells
        if self._bom:
            yield BOM
        lines = [csv_line(self._kind.columns)]
        size = 0
        for record in self._records:
            line = csv_line(as_cells(record))
            lines.append(line)
            size += len(line)
            self.rows += 1
            if size >= _CHUNK:
                yield "".join(lines).encode()
                lines, size = [], 0
        yield "".join(lines).encode()
