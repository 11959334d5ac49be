"""How fast the dashboard's course report answers for a large course (issue 19).

Run:  .venv/bin/python benchmarks/bench_dashboard.py [--learners 1000] [--activities 100]
      [--storage memory://]

A course of 1,000 enrolled learners and 100 activities (block keys of an edX
course), every learner with a statement about every activity (100,000
statements, stored as a POST stores them, with progress), a third of the
cells completed. Then, in the same run, each timed 5 times (median), by
Flask's test client (no network):

- the baseline: the same report as JSON, `GET /api/v1/progress/courses/{course}/report`
  (a page of 50 learners, every activity's totals);
- the dashboard's course report page (`/dashboard/courses/{course}/report`,
  50 learners a page, 5,000 cells and the totals), signed in as an admin.

The goal of issue 19: the page answers in under one second.
"""

import argparse
import os
import platform
import statistics
import time
from base64 import b64encode
from datetime import UTC, datetime, timedelta

from fresh import remove_sqlite_file

from lrs.api import create_app
from lrs.enrollments import CourseRole
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version

COURSE = "course-v1:Bench+Big+2026"
HOMEPAGE = "https://lms.example.org"
KEY, SECRET = "bench-admin-key", "bench-admin-secret-0123456789abcdefghij"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": HOMEPAGE, "name": "bench"}}
START = datetime(2026, 9, 1, 8, tzinfo=UTC)


def statement(learner, activity):
    completes = (learner + activity) % 3 == 0
    return {
        "actor": {"account": {"homePage": HOMEPAGE, "name": f"learner{learner:04d}"}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/" + ("completed" if completes else "experienced")
        },
        "object": {
            "id": f"block-v1:Bench+Big+2026+type@problem+block@activity{activity:03d}",
            "definition": {"name": {"en": f"Activity {activity}"}},
        },
        "result": {"completion": completes, "duration": "PT2M30S"},
        "timestamp": (START + timedelta(minutes=activity, seconds=learner)).isoformat(),
    }


def seed(storage, learners, activities):
    for n in range(learners):
        storage.enrollments.create_user(f"learner{n:04d}", {}, actor="bench")
        storage.enrollments.enroll(f"learner{n:04d}", COURSE, actor="bench")
    storage.enrollments.create_user("coach", {}, actor="bench")
    storage.enrollments.enroll("coach", COURSE, role=CourseRole.coach, actor="bench")
    for n in range(learners):
        batch = [statement(n, activity) for activity in range(activities)]
        prepared = [prepare(item, version=Version.V1_0_3, authority=AUTHORITY) for item in batch]
        store_batch(storage, prepared, batch, ["statement"] * len(batch))


def timed(client, path, headers=None, repeat=5):
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(seconds), len(response.get_data())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--activities", type=int, default=100)
    parser.add_argument("--storage", default="memory://")
    args = parser.parse_args()
    remove_sqlite_file(args.storage)
    storage = open_storage(args.storage)
    started = time.perf_counter()
    seed(storage, args.learners, args.activities)
    seeded = time.perf_counter() - started
    app = create_app(
        {"ADMIN_KEY": KEY, "ADMIN_SECRET": SECRET, "ACCOUNT_HOMEPAGE": HOMEPAGE},
        storage=storage,
    )
    api = app.test_client()
    auth = {"Authorization": "Basic " + b64encode(f"{KEY}:{SECRET}".encode()).decode()}
    base, base_bytes = timed(api, f"/api/v1/progress/courses/{COURSE}/report?page_size=50", auth)
    page = app.test_client()
    sign_in = page.get("/dashboard/sign-in").get_data(as_text=True)
    token = sign_in.split('name="csrf_token" value="')[1].split('"')[0]
    page.post("/dashboard/sign-in", data={"key": KEY, "secret": SECRET, "csrf_token": token})
    ours, our_bytes = timed(page, f"/dashboard/courses/{COURSE}/report")
    print(f"### Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores  ")
    print(
        f"command: `python benchmarks/bench_dashboard.py --learners {args.learners} "
        f"--activities {args.activities} --storage {args.storage}` "
        f"(seeding {args.learners * args.activities:,} statements took {seeded:.0f} s)\n"
    )
    print("| request | median seconds | bytes | ratio to baseline |")
    print("|---|---:|---:|---:|")
    print(f"| baseline: JSON course report, 50 learners | {base:.3f} | {base_bytes:,} | 100% |")
    print(
        f"| dashboard course report page, 50 learners | {ours:.3f} | {our_bytes:,} | "
        f"{ours / base:.0%} |"
    )
    storage.close()
    remove_sqlite_file(args.storage)


if __name__ == "__main__":
    main()
