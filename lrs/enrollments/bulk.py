"""Bulk enrollment from a list of rows or a CSV file, with a dry-run mode.

Each row names ``username`` and ``course_key``, and may give ``mode`` and
``role``. Rows are checked and applied one by one: a bad row gets an
``error`` result with the reason and never blocks or changes the others. A
dry run checks every row against the stored records and says what would
happen, writing nothing.
"""

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lrs.enrollments.base import (
    CourseRole,
    EnrollmentStore,
    Outcome,
    check_course_key,
    check_mode,
    check_role,
)
from lrs.exceptions import DoesNotExist, InvalidInput

MAX_ROWS = 10_000
COLUMNS = ("username", "course_key", "mode", "role")


@dataclass(frozen=True)
class RowResult:
    """What became of one row: ``created``, ``reactivated``, ``unchanged`` or ``error``."""

    row: int  # from 1
    username: str
    course_key: str
    result: str
    reason: str = ""


def parse_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file with a header line naming (some of) ``COLUMNS``.

    Raises:
        InvalidInput: not UTF-8, no header, an unknown column, or too many rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV file is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InvalidInput("the CSV file has no header line (username,course_key,mode,role)")
    unknown = set(reader.fieldnames) - set(COLUMNS)
    if unknown:
        raise InvalidInput(
            f"unknown CSV columns: {', '.join(sorted(unknown))} (known: {', '.join(COLUMNS)})"
        )
    rows: list[dict[str, str]] = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InvalidInput(f"more than {MAX_ROWS} rows: split the file")
            # Empty cells are absent values.
            rows.append({name: value for name, value in row.items() if value})
    except csv.Error as exc:
        raise InvalidInput(f"the CSV file is malformed: {exc}") from None
    return rows


def _check_row(row: Any) -> tuple[str, str, str | None, CourseRole | None]:
    if not isinstance(row, Mapping):
        raise InvalidInput("a row must be an object")
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(map(str, unknown)))}")
    username = row.get("username")
    if not isinstance(username, str) or not username:
        raise InvalidInput("username is required")
    course_key = check_course_key(row.get("course_key"))
    mode = None if row.get("mode") is None else check_mode(row["mode"])
    role = None if row.get("role") is None else check_role(row["role"])
    return username, course_key, mode, role


def _would(store: EnrollmentStore, username: str, course_key: str) -> Outcome:
    store.get_user(username)  # DoesNotExist for an unknown user
    try:
        current = store.get_enrollment(username, course_key)
    except DoesNotExist:
        return Outcome.created
    return Outcome.unchanged if current.is_active else Outcome.reactivated


def bulk_enroll(
    store: EnrollmentStore,
    rows: Iterable[Any],
    *,
    actor: str,
    reason: str = "",
    dry_run: bool = False,
) -> list[RowResult]:
    """Enroll every row it can; return one result per row, in order.

    Raises:
        InvalidInput: more than ``MAX_ROWS`` rows (nothing is applied).
    """
    rows = list(rows)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"more than {MAX_ROWS} rows: split the upload")
    results = []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=1):
        names = row if isinstance(row, Mapping) else {}
        username = str(names.get("username", ""))
        course_key = str(names.get("course_key", ""))
        try:
            username, course_key, mode, role = _check_row(row)
            if dry_run:
                outcome = _would(store, username, course_key)
                # A pair repeated in the upload is unchanged the second time.
                if (username, course_key) in seen:
                    outcome = Outcome.unchanged
            else:
                _, outcome = store.enroll(
                    username, course_key, mode=mode, role=role, actor=actor, reason=reason
                )
            seen.add((username, course_key))
            results.append(RowResult(number, username, course_key, outcome.value))
        except (ValueError, DoesNotExist) as exc:
            results.append(RowResult(number, username, course_key, "error", str(exc)))
    return results
