"""The one retry policy of compare-and-set loops: read, check, write only if unchanged.

Every store that writes by compare-and-set (MongoDB documents, learner blocks,
statements, activities, enrollments) loops over ``attempts``: a lost race
backs off a little, at random, longer each time, and after ``CAS_ATTEMPTS``
the writer is told to retry later (503) rather than kept waiting.
"""

import random
import time
from collections.abc import Iterator

from lrs.exceptions import ServiceUnavailable

# A compare-and-set loop (read, check, write only if unchanged) gives up after
# this many lost races: under such contention a client is better told to
# retry (503) than kept waiting.
CAS_ATTEMPTS = 100


def back_off(attempt: int) -> None:
    """Wait a little after a lost compare-and-set race.

    Longer each time, and at random, so that the racers spread out.
    """
    if attempt:
        time.sleep(random.uniform(0, 0.001 * min(attempt, 20)))


def attempts(what: str) -> Iterator[int]:
    """The rounds of a compare-and-set loop, with the one retry policy every store uses.

    Read, check and write in each round; ``return`` (or ``break``) once a write
    lands; ``continue`` after losing a race. Between rounds it backs off (see
    ``back_off``); after ``CAS_ATTEMPTS`` lost races it raises.

    Raises:
        ServiceUnavailable: ``what`` kept changing under the writer (503: retry).
    """
    for attempt in range(CAS_ATTEMPTS):
        back_off(attempt)
        yield attempt
    raise ServiceUnavailable(f"{what} changed too often while being written; retry")
