"""What the course activity chart costs when the store is busy with other courses (issue 26).

Run:  .venv/bin/python benchmarks/bench_chart.py [--others 1000000] [--course 5000]
      [--storage sqlite:///bench-chart.db]

One course of 5,000 statements (block keys of an edX course) over the last 30
days, and 1,000,000 realistic statements (``realistic.py``, about 1.2 KB
each) of 40 other courses (a course activity in their grouping) in the same
30 days. Timed, median of 5, through Flask's test client, signed in as admin:

- the chart page with the course's statements alone (the baseline: what the
  page costs for this course);
- the chart page with the other courses' million statements stored too;
- the former way, for reference: walking every statement of the 30 days and
  parsing each to find its course (what the page did before issue 26, up to
  200,000 statements), timed once.

The goal: the page's cost follows its course, not the store (ratio near 100%).
"""

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta

import orjson
from fresh import remove_sqlite_file
from realistic import statement as realistic

from lrs.api import create_app
from lrs.clock import default_clock
from lrs.usecases.storage import open_storage
from lrs.xapi.courses import COURSE_TYPE, course_of
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.validation import Version

COURSE = "course-v1:Bench+Chart+2026"
HOMEPAGE = "https://lms.example.org"
KEY, SECRET = "bench-admin-key", "bench-admin-secret-0123456789abcdefghij"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "bench"}}
NOW = datetime.now(UTC)
BATCH = 1000


def in_course(n):
    return {
        "actor": {"account": {"homePage": HOMEPAGE, "name": f"learner{n % 300:04d}"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"block-v1:Bench+Chart+2026+type@html+block@page{n % 50}"},
        "timestamp": (NOW - timedelta(minutes=n * 7 % (29 * 24 * 60))).isoformat(),
    }


def elsewhere(n):
    found = realistic(n)
    # A course activity in the grouping: each statement is in one of 40 courses.
    grouping = found["context"]["contextActivities"]["grouping"][0]
    grouping["definition"] = {"type": COURSE_TYPE}
    found["timestamp"] = (NOW - timedelta(seconds=n * 7 % (29 * 86_400))).isoformat()
    return found


def store(storage, make, count):
    for start in range(0, count, BATCH):
        records = []
        for n in range(start, min(start + BATCH, count)):
            prepared = prepare(make(n), version=Version.V1_0_3, authority=AUTHORITY)
            records.append(prepared.stamped(default_clock.now_us()))
        # Statements alone (no progress): the chart reads statements only.
        storage.statements.save(records)


def signed_in(app):
    page = app.test_client()
    sign_in = page.get("/dashboard/sign-in").get_data(as_text=True)
    token = sign_in.split('name="csrf_token" value="')[1].split('"')[0]
    page.post("/dashboard/sign-in", data={"key": KEY, "secret": SECRET, "csrf_token": token})
    return page


def timed(page, repeat=5):
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = page.get(f"/dashboard/courses/{COURSE}/activity")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(seconds)


def former(storage):
    """The chart as it was read before: every statement of the 30 days, parsed."""
    since_us = int((NOW - timedelta(days=30)).timestamp() * 1_000_000)
    started = time.perf_counter()
    found = read = 0
    for record in storage.statements.walk(StatementQuery(since_us=since_us)):
        read += 1
        if read > 200_000:
            break
        found += course_of(orjson.loads(record.text)) == COURSE
    return time.perf_counter() - started, read


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=1_000_000)
    parser.add_argument("--course", type=int, default=5_000)
    parser.add_argument("--storage", default="sqlite:///bench-chart.db")
    args = parser.parse_args()
    remove_sqlite_file(args.storage)
    storage = open_storage(args.storage)
    store(storage, in_course, args.course)
    app = create_app(
        {"ADMIN_KEY": KEY, "ADMIN_SECRET": SECRET, "ACCOUNT_HOMEPAGE": HOMEPAGE},
        storage=storage,
    )
    page = signed_in(app)
    alone = timed(page)
    started = time.perf_counter()
    store(storage, elsewhere, args.others)
    seeded = time.perf_counter() - started
    busy = timed(page)
    old, read = former(storage)
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_chart.py --others {args.others} "
        f"--course {args.course} --storage {args.storage}` "
        f"(storing {args.others:,} other statements took {seeded:.0f} s)\n"
    )
    print("| chart of one course | median seconds | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: the course's {args.course:,} statements alone | {alone:.4f} | 100% |")
    print(
        f"| with {args.others:,} statements of 40 other courses too | {busy:.4f} | "
        f"{busy / alone:.0%} |"
    )
    print(
        f"| before issue 26: walk and parse the 30 days ({read:,} statements read, "
        f"once) | {old:.3f} | {old / alone:.0%} |"
    )
    storage.close()
    remove_sqlite_file(args.storage)


if __name__ == "__main__":
    main()
