"""How fast progress is derived again from the statements stored (issue 15).

Run:  .venv/bin/python benchmarks/bench_progress.py [--statements 100000]
      [--storage sqlite:////tmp/bench-progress.db]

Stores realistic statements (benchmarks/realistic.py: 5,000 learners, 30,000
activities, cmi5-like sessions) without progress, then times
``lrs.usecases.rebuild.rebuild``, which reads every statement back, derives
its event, and derives every (learner, content)'s sessions and summary.
Reports statements per second, best of three. The goal of issue 15: at least
20,000 statements/s on the memory store.

Then the course report of 1,000 learners x 100 activities (``--learners``,
``--activities``): progress recorded for each pair, then
``GET /api/v1/progress/courses/{course}/report?page_size=1000`` through
Flask's test client (the store's query, the report, the JSON), best of five.
The goal: under 250 ms on the memory store.
"""

import argparse
import os
import platform
import time
from base64 import b64encode
from datetime import UTC, datetime

import orjson
import realistic
from fresh import remove_sqlite_file

from lrs.api import create_app
from lrs.clock import default_clock
from lrs.enrollments import CourseRole
from lrs.progress import Event
from lrs.serve import tune_garbage_collector
from lrs.usecases.rebuild import rebuild
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version

KEY, SECRET = "bench-admin-key", "bench-admin-secret-0123456789abcdefghij"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.bench", "name": "bench"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--storage", default="memory://")
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--activities", type=int, default=100)
    args = parser.parse_args()
    tune_garbage_collector()  # as the server does
    remove_sqlite_file(args.storage)
    storage = open_storage(args.storage)
    for start in range(0, args.statements, 1000):
        batch = [realistic.statement(n) for n in range(start, min(start + 1000, args.statements))]
        first_us = default_clock.now_us(len(batch))
        storage.statements.save(
            [
                prepare(
                    orjson.loads(orjson.dumps(item)), version=Version.V1_0_3, authority=AUTHORITY
                ).stamped(first_us + index)
                for index, item in enumerate(batch)
            ]
        )
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        keys = rebuild(storage.progress, storage.statements)
        best = min(best, time.perf_counter() - started)
    rate = args.statements / best
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_progress.py --statements {args.statements} "
        f"--storage {args.storage}`\n"
    )
    print(
        f"rebuild of {args.statements:,} realistic statements ({keys:,} learner x content "
        f"summaries): {best:.2f} s, **{rate:,.0f} statements/s** (best of 3)  "
    )
    took = report_ms(storage, args.learners, args.activities)
    print(
        f"course report of {args.learners:,} learners x {args.activities} activities "
        f"(GET, one page of every learner): **{took:.0f} ms** (best of 5)"
    )
    storage.close()


def report_ms(storage, learners, activities):
    """Milliseconds to GET the report of a course where every learner did every activity."""
    course = "course-v1:Bench+Report+2026"
    app = create_app({"ADMIN_KEY": KEY, "ADMIN_SECRET": SECRET, "TESTING": True}, storage=storage)
    accounts = app.extensions["lrs-accounts"]
    events = []
    for learner in range(learners):
        storage.enrollments.create_user(f"learner{learner}", {}, actor="bench")
        storage.enrollments.enroll(
            f"learner{learner}", course, actor="bench", role=CourseRole.learner
        )
        for activity in range(activities):
            events.append(
                Event(
                    learner=accounts.key(f"learner{learner}"),
                    content=f"block-v1:Bench+Report+2026+type@html+block@a{activity}",
                    time_us=1_800_000_000_000_000 + (learner * activities + activity) * 10**6,
                    statement_id=f"{learner}-{activity}",
                    duration_us=60_000_000,
                    progress=(learner + activity) % 101 / 100,
                    completes=(learner + activity) % 3 == 0,
                    kind="http://adlnet.gov/expapi/activities/lesson",
                    course=course,
                    platform="",
                    closes=False,
                    score=None,
                )
            )
    for start in range(0, len(events), 1000):
        storage.progress.record(events[start : start + 1000])
    client = app.test_client()
    headers = {"Authorization": "Basic " + b64encode(f"{KEY}:{SECRET}".encode()).decode()}
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(
            f"/api/v1/progress/courses/{course}/report?page_size=1000", headers=headers
        )
        best = min(best, time.perf_counter() - started)
        assert response.status_code == 200, response.json
        assert len(response.json["learners"]) == min(learners, 1000)
    return best * 1000


if __name__ == "__main__":
    main()
