"""How long assigning 10,000 learners from a CSV file takes (issue 18).

Run:  .venv/bin/python benchmarks/bench_assignments.py [--rows 10000]
      [--storage sqlite:////tmp/bench-assignments.db]

10,000 users exist (with e-mail addresses, enrolled in nothing); a CSV file
names, per row, a learner (by username, or one row in five by e-mail
address), a course's activity, the course, a due date and a note. In the
same run:

- the baseline: the same rows as a bulk enrollment (``lrs.enrollments.bulk``,
  what `POST /api/v1/enrollments/bulk` does), each row one checked write
  with its change record;
- the bulk assignment (``Assignments.assign_many``, what
  `POST /api/v1/assignments/bulk` and `lrs assignments import` do): each row
  checked, stored with its action and change, and its learner's progress
  read to accept or complete it at once.

The goal of issue 18: 10,000 assignments from a CSV "in seconds".
"""

import argparse
import os
import platform
import time
from datetime import UTC, datetime

from fresh import remove_sqlite_file

from lrs.enrollments.bulk import COLUMNS, bulk_enroll, parse_rows
from lrs.usecases.assignments import ROW_FIELDS, Assignments
from lrs.usecases.storage import open_storage
from lrs.xapi.agents import AccountAgents

COURSES = [f"course-v1:Org+C{n}+2026" for n in range(20)]


def csv_of(rows, enrollments):
    if enrollments:
        lines = ["username,course_key"]
        lines += [f"learner{n},{COURSES[n % 20]}" for n in range(rows)]
    else:
        lines = ["content,username,email,course_key,due,note"]
        for n in range(rows):
            course = COURSES[n % 20]
            activity = f"https://courses.example.org/{course}/module-{n % 7}/quiz"
            who = f",learner{n}@example.org" if n % 5 == 0 else f"learner{n},"
            lines.append(f"{activity},{who},{course},2099-06-30,Before the June exam")
    return "\n".join(lines).encode() + b"\n"


def fresh(url, rows):
    remove_sqlite_file(url)
    storage = open_storage(url)
    for n in range(rows):
        storage.enrollments.create_user(
            f"learner{n}", {"email": f"learner{n}@example.org"}, actor="bench"
        )
    return storage


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--storage", default="sqlite:////tmp/bench-assignments.db")
    args = parser.parse_args()
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_assignments.py --rows {args.rows} "
        f"--storage {args.storage}`\n"
    )
    print("| stage | rows | seconds | rows/s | ratio to baseline |")
    print("|---|---:|---:|---:|---:|")
    with fresh(args.storage, args.rows) as storage:
        started = time.perf_counter()
        rows = parse_rows(csv_of(args.rows, True), COLUMNS)
        results = bulk_enroll(storage.enrollments, rows, actor="bench")
        base = time.perf_counter() - started
        assert all(result.result == "created" for result in results)
        rate = args.rows / base
        print(f"| baseline: bulk enrollment | {args.rows:,} | {base:.2f} | {rate:,.0f} | 100% |")
    with fresh(args.storage, args.rows) as storage:
        service = Assignments(storage, AccountAgents("https://lms.example.org"))
        started = time.perf_counter()
        rows = parse_rows(csv_of(args.rows, False), ROW_FIELDS)
        outcomes = service.assign_many(rows, actor="bench")
        seconds = time.perf_counter() - started
        assert all(outcome.result == "created" for outcome in outcomes), outcomes[:3]
        print(
            f"| bulk assignment from CSV | {args.rows:,} | {seconds:.2f} | "
            f"{args.rows / seconds:,.0f} | {base / seconds:.0%} |"
        )
    remove_sqlite_file(args.storage)


if __name__ == "__main__":
    main()
