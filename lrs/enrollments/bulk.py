"""Bulk users and enrollments from a list of rows, a CSV file or NDJSON, with a dry-run mode.

An enrollment row names ``username`` and ``course_key``, and may give
``mode`` and ``role``; a user row names ``username`` and may give the user
fields (``USER_FIELDS``). Rows are checked and applied one by one: a bad row
gets an ``error`` result with the reason and never blocks or changes the
others. Applying a file twice changes nothing the second time (``unchanged``).
A dry run checks every row against the stored records and says what would
happen, writing nothing.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lrs import strict_json
from lrs.enrollments.base import (
    USER_FIELDS,
    CourseRole,
    EnrollmentStore,
    Outcome,
    check_course_key,
    check_mode,
    check_role,
    check_user_fields,
    user_values,
)
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.usernames import check_username

MAX_ROWS = 10_000
COLUMNS = ("username", "course_key", "mode", "role")
USER_COLUMNS = ("username", *USER_FIELDS)


@dataclass(frozen=True)
class RowResult:
    """What became of one row: created, reactivated, updated, unchanged or error."""

    row: int  # from 1
    username: str
    course_key: str
    result: str
    reason: str = ""


def bounded(rows: Iterable[Any]) -> list[Any]:
    """The rows of a bulk call, at most ``MAX_ROWS`` of them.

    Raises:
        InvalidInput: more rows than that (nothing of the call is applied).
    """
    rows = list(rows)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"more than {MAX_ROWS} rows: split the upload")
    return rows


def parse_rows(data: bytes, columns: Sequence[str] = COLUMNS) -> list[dict[str, Any]]:
    """The rows of a CSV file (with a header line) or of NDJSON (one object a line).

    NDJSON is told by its first character, ``{``.

    Raises:
        InvalidInput: not UTF-8, no header, an unknown column, a line that is
            not a JSON object, or too many rows.
    """
    if data.lstrip()[:1] != b"{":
        return parse_csv(data, columns)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} rows: split the file")
        try:
            row = strict_json.loads(line)
        except strict_json.JSONError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc}") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"line {number} is not a JSON object")
        rows.append(row)
    return rows


def parse_csv(data: bytes, columns: Sequence[str] = COLUMNS) -> list[dict[str, str]]:
    """The rows of a CSV file with a header line naming (some of) ``columns``.

    Raises:
        InvalidInput: not UTF-8, no header, an unknown column, or too many rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV file is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InvalidInput(f"the CSV file has no header line ({','.join(columns)})")
    unknown = set(reader.fieldnames) - set(columns)
    if unknown:
        raise InvalidInput(
            f"unknown CSV columns: {', '.join(sorted(unknown))} (known: {', '.join(columns)})"
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


def _username_of(row: Any, columns: Sequence[str]) -> str:
    """The username of a row that is an object of known fields."""
    if not isinstance(row, Mapping):
        raise InvalidInput("a row must be an object")
    unknown = set(row) - set(columns)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(map(str, unknown)))}")
    username = row.get("username")
    if not isinstance(username, str) or not username:
        raise InvalidInput("username is required")
    return username


def _check_row(row: Any) -> tuple[str, str, str | None, CourseRole | None]:
    username = _username_of(row, COLUMNS)
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
    rows = bounded(rows)
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


# CSV cells are text: these user fields are read back from it.
_CSV_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _user_row(row: Any) -> tuple[str, dict[str, Any]]:
    """The username and the checked user fields of a row (CSV text or JSON values)."""
    username = _username_of(row, USER_COLUMNS)
    check_username(username)
    fields = {name: value for name, value in row.items() if name != "username"}
    for name in ("is_staff", "is_active"):
        value = fields.get(name)
        if isinstance(value, str):
            if value.lower() not in _CSV_BOOLEANS:
                raise InvalidInput(f"{name} must be true or false, not {value!r}")
            fields[name] = _CSV_BOOLEANS[value.lower()]
    if isinstance(fields.get("profile"), str):
        try:
            fields["profile"] = strict_json.loads(fields["profile"], "profile")
        except strict_json.JSONError as exc:
            raise InvalidInput(f"profile must be a JSON object: {exc}") from None
    return username, check_user_fields(fields)


def bulk_users(
    store: EnrollmentStore,
    rows: Iterable[Any],
    *,
    actor: str,
    reason: str = "",
    dry_run: bool = False,
) -> list[RowResult]:
    """Create every user of the rows, or bring an existing one to the row's fields.

    A user whose fields already are the row's is ``unchanged``: applying a
    file twice changes nothing the second time.

    Raises:
        InvalidInput: more than ``MAX_ROWS`` rows (nothing is applied).
    """
    rows = bounded(rows)
    results = []
    # In a dry run, the values each row would have left (a file may name a user twice).
    would: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=1):
        username = str(row.get("username", "")) if isinstance(row, Mapping) else ""
        try:
            username, fields = _user_row(row)
            current = would.get(username)
            if current is None:
                try:
                    current = user_values(store.get_user(username))
                except DoesNotExist:
                    pass
            if current is None:
                outcome = "created"
                if not dry_run:
                    store.create_user(username, fields, actor=actor, reason=reason)
            elif all(current.get(name) == value for name, value in fields.items()):
                outcome = "unchanged"
            else:
                outcome = "updated"
                if not dry_run:
                    store.update_user(username, fields, actor=actor, reason=reason)
            if dry_run:
                would[username] = {**(current or {}), **fields}
            results.append(RowResult(number, username, "", outcome))
        except (ValueError, DoesNotExist) as exc:
            results.append(RowResult(number, username, "", "error", str(exc)))
    return results
