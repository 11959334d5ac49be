"""Small helpers that make contract tests read like the specification.

No pytest here: anyone may import these (from ``lrs.testing``) in their own tests.
"""

import threading
import uuid
from collections.abc import Callable
from typing import Any

from lrs.history.base import HistoryEntry
from lrs.xapi.documents import Context, Resource

COURSE = "course-v1:Org+Course+Run"
OTHER_COURSE = "course-v1:Org+Other+Run"


def user(n: int) -> str:
    """The n-th test learner."""
    return f"learner{n}"


def block(n: int, block_type: str = "problem", course: str = COURSE) -> str:
    """The n-th test block of ``course``, an edX usage key."""
    org_course_run = course.removeprefix("course-v1:")
    return f"block-v1:{org_course_run}+type@{block_type}+block@b{n}"


class Key:
    """A caller's own key object: ``str()`` is its id, like edX's ``UsageKey``."""

    def __init__(self, block_id: str, course_key: str | None = None, block_type: str | None = None):
        """Make a key whose id is ``block_id``."""
        self.block_id = block_id
        self.course_key = course_key
        self.block_type = block_type

    def __str__(self) -> str:
        """The canonical id."""
        return self.block_id

    def __hash__(self) -> int:
        """Hash as the id does."""
        return hash(self.block_id)

    def __eq__(self, other: object) -> bool:
        """Keys with the same id are equal."""
        return isinstance(other, Key) and other.block_id == self.block_id


class XBlockLikeScope:
    """Stands in for XBlock's ``Scope.user_state``: only ``.name`` matters."""

    def __init__(self, name: str):
        """Make a scope called ``name``."""
        self.name = name


def states(results: Any) -> dict[Any, Any]:
    """Map each result's block key to its state."""
    return {result.block_key: result.state for result in results}


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each on its own thread; return what each returned or raised."""
    outcomes: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except BaseException as exc:  # reported to the test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def failures(outcomes: list[Any]) -> list[BaseException]:
    """The exceptions among ``race``'s outcomes."""
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def statement(
    n: int = 0,
    *,
    actor: str = "mailto:ada@example.org",
    verb: str = "http://adlnet.gov/expapi/verbs/completed",
    activity: str = "http://example.org/activities/a0",
    **extra: Any,
) -> dict[str, Any]:
    """A small valid statement; ``n`` makes its id (and so it) distinct."""
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": {"mbox": actor},
        "verb": {"id": verb},
        "object": {"id": activity},
        **extra,
    }


AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "tests"}}


def entry(n: int, time_us: int, username: str = "learner0", block_id: str = "b0") -> HistoryEntry:
    """A history entry whose state records ``n``."""
    return HistoryEntry(username, "user_state", block_id, f'{{"n":{n}}}', time_us)


DOCUMENT_CONTEXT = Context(
    Resource.state, "http://example.org/activities/a0", "mbox:mailto:ada@example.org"
)


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep."""
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"n": value}
    return value
