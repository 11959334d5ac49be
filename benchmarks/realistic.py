"""Realistic statements for the benchmarks: cmi5-like, about 1.2 KB each, every field present.

Each statement has an Agent actor with a name and either an ``mbox`` or an
``account``; a verb with an English ``display``; an Activity object with a
definition (``type``, ``name``, ``description``) whose id is one of 30,000;
a result with a full score, ``success``, ``completion`` and ``duration``; a
context with a registration, ``parent``, ``grouping`` (the course, typed
as one, so that progress and reports know it) and ``category`` context
activities, ``platform``, ``language`` and one extension; and a
timestamp with milliseconds and ``Z``. The numbers come from ``n``, so runs
send the same statements.
"""

import random
from datetime import UTC, datetime, timedelta

ACTIVITIES = 30_000
LEARNERS = 5_000
#: Learners of the wide mix (issue 31): nearly every statement names a learner,
#: a registration and a session the store has not seen.
WIDE_LEARNERS = 100_000
COURSES = 40
VERBS = [
    ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    ("http://adlnet.gov/expapi/verbs/answered", "answered"),
    ("http://adlnet.gov/expapi/verbs/experienced", "experienced"),
]
TYPES = [
    "http://adlnet.gov/expapi/activities/lesson",
    "http://adlnet.gov/expapi/activities/assessment",
    "http://adlnet.gov/expapi/activities/cmi.interaction",
    "http://adlnet.gov/expapi/activities/media",
]
START = datetime(2026, 9, 1, 8, tzinfo=UTC)


def _uuid(*parts: object) -> str:
    """A version 4 UUID that ``parts`` determine."""
    text = f"{random.Random(repr(parts)).getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def statement(n: int, *, wide: bool = False) -> dict:
    """The ``n``-th realistic statement.

    With ``wide``, its learner is one of 100,000 and its registration and
    session are its own, the worst case for anything keyed on them.
    """
    rng = random.Random(n)
    learner = rng.randrange(WIDE_LEARNERS if wide else LEARNERS)
    activity = rng.randrange(ACTIVITIES)
    course = activity % COURSES
    module = activity % 400
    verb, verb_name = VERBS[n % len(VERBS)]
    if learner % 2:
        actor = {"objectType": "Agent", "name": f"Learner {learner}"}
        actor["mbox"] = f"mailto:learner{learner}@school{learner % 30}.example.org"
    else:
        actor = {"objectType": "Agent", "name": f"Learner {learner}"}
        actor["account"] = {"homePage": "https://lms.example.org", "name": f"learner-{learner}"}
    raw = rng.randrange(101)
    when = START + timedelta(milliseconds=n * 7919 + rng.randrange(1000))
    base = f"https://courses.example.org/course-{course}"
    return {
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": verb_name}},
        "object": {
            "objectType": "Activity",
            "id": f"{base}/module-{module}/activity-{activity}",
            "definition": {
                "type": TYPES[activity % len(TYPES)],
                "name": {"en-US": f"Activity {activity} of module {module}"},
                "description": {
                    "en-US": f"Practice for module {module} of course {course}: "
                    "read the text and answer the questions."
                },
            },
        },
        "result": {
            "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
            "success": raw >= 50,
            "completion": True,
            "duration": f"PT{rng.randrange(60)}M{rng.randrange(60)}.{rng.randrange(100):02d}S",
        },
        "context": {
            # One registration per learner and course; one session per day.
            "registration": _uuid("statement", n) if wide else _uuid(learner, course),
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": f"{base}/module-{module}"}],
                "grouping": [
                    {
                        "objectType": "Activity",
                        "id": base,
                        "definition": {"type": "http://adlnet.gov/expapi/activities/course"},
                    }
                ],
                "category": [
                    {
                        "objectType": "Activity",
                        "id": "https://w3id.org/xapi/cmi5/context/categories/moveon",
                    }
                ],
            },
            "platform": "Example LMS 4.2",
            "language": "en-US",
            "extensions": {
                "https://w3id.org/xapi/cmi5/context/extensions/sessionid": _uuid("session", n)
                if wide
                else _uuid(learner, course, when.date())
            },
        },
        "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
