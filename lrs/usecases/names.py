"""Names people read instead of identifiers: activities, learners, courses (docs/dashboard.md).

An activity's name and type come from its merged definition (the Activities
resource: the latest definitions statements carried), a question's text
from its description when its name is a label; a learner's from their
user's full name; a course's from the activity of that id, when statements
carried one (a cmi5 or SCORM course), else its key. Everything looked up is
kept for the life of one ``Names`` (one page, one export).
"""

from collections.abc import Iterable
from typing import Any, Self

from lrs.enrollments.base import EnrollmentStore
from lrs.exceptions import DoesNotExist
from lrs.xapi import syntax
from lrs.xapi.activities.base import ActivityStore
from lrs.xapi.agents import AccountAgents

#: Words for the activity types people meet most (ADL's vocabulary and the
#: last part of others): what a column header or a list says of a content.
KIND_WORDS = {
    "assessment": "exam",
    "cmi.interaction": "question",
    "interaction": "question",
    "media": "video",
    "link": "link",
    "file": "file",
}


def last_part(iri: str) -> str:
    """The last segment of an IRI (after its last ``/`` or ``#``), or the IRI."""
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri


def short_id(identifier: str) -> str:
    """The last part of an IRI or an edX block key: what to show when nothing names it."""
    if identifier.startswith("block-v1:"):
        return identifier.rsplit("@", 1)[-1]
    return last_part(identifier)


def kind_word(kind: str) -> str:
    """A content's activity type in one word: "exam", "video", "lesson"; "" for none."""
    if not kind:
        return ""
    last = short_id(kind).lower()
    return KIND_WORDS.get(last, last.replace("-", " "))


class Names:
    """Looks names up, each once."""

    def __init__(
        self, activities: ActivityStore, enrollments: EnrollmentStore, accounts: AccountAgents
    ) -> None:
        """Names from these stores; ``accounts`` turns agent keys into usernames."""
        self._activities = activities
        self._enrollments = enrollments
        self._accounts = accounts
        self._definitions: dict[str, dict[str, Any]] = {}
        self._full_names: dict[str, str] = {}

    def read(self, activities: Iterable[str]) -> Self:
        """Look these activities up now, in one read (a report's hundreds of columns)."""
        wanted = {activity for activity in activities if activity not in self._definitions}
        found = self._activities.get_many(wanted)
        self._definitions.update({activity: found.get(activity) or {} for activity in wanted})
        return self

    def _definition(self, activity: str) -> dict[str, Any]:
        found = self._definitions.get(activity)
        if found is None:
            found = self._activities.get(activity) or {}
            self._definitions[activity] = found
        return found

    def activity(self, activity: str) -> str:
        """An activity's name, else its description, else the last part of its id."""
        return self._text(activity, ("name", "description"))

    def question(self, item: str) -> str:
        """A question's text: its description (the question asked), else its name."""
        return self._text(item, ("description", "name"))

    def _text(self, activity: str, fields: tuple[str, ...]) -> str:
        """The first of these fields of its definition that has a text, else its short id."""
        definition = self._definition(activity)
        for field in fields:
            text = syntax.language_text(definition.get(field))
            if text:
                return str(text)
        return short_id(activity)

    def kind(self, activity: str, known: str = "") -> str:
        """An activity's type in one word, from ``known`` (a summary's) or its definition."""
        kind = known or self._definition(activity).get("type")
        return kind_word(kind if isinstance(kind, str) else "")

    def course(self, course: str) -> str:
        """A course's name: the name of the activity with its id, else the key itself."""
        text = syntax.language_text(self._definition(course).get("name"))
        if text:
            return str(text)
        return course

    def username(self, learner: str) -> str | None:
        """The username of a learner's agent key, when an account of this LRS."""
        return self._accounts.username(learner)

    def learner(self, learner: str) -> str:
        """A learner's full name, else their username, else their agent key."""
        username = self._accounts.username(learner)
        if username is None:
            return learner
        return self.full_name(username) or username

    def full_name(self, username: str) -> str:
        """A user's full name, or ``""`` (none given, or no such user)."""
        found = self._full_names.get(username)
        if found is None:
            try:
                found = self._enrollments.get_user(username).full_name or ""
            except DoesNotExist:
                found = ""
            self._full_names[username] = found
        return found
