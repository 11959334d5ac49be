"""The course a statement is in: what progress, exports and the course activity chart read.

An edX course from a block key (``block-v1:Org+Course+Run+type@...``), else
the first activity of type course among the statement's grouping, then
parent, context activities (cmi5 and SCORM wrappers put the course there).
"""

from typing import Any

from lrs.clients.base import block_location
from lrs.xapi.syntax import context_activities

#: The activity type of a course (ADL's vocabulary).
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def activity_type(activity: Any) -> str:
    """An activity's ``definition.type``, or ``""``."""
    definition = activity.get("definition") if isinstance(activity, dict) else None
    kind = definition.get("type") if isinstance(definition, dict) else None
    return kind if isinstance(kind, str) else ""


def course_of(statement: dict[str, Any]) -> str:
    """The course a statement is in, or ``""`` when it names none."""
    target = statement.get("object")
    course, _ = block_location(target.get("id", "") if isinstance(target, dict) else "")
    if course is not None:
        return course
    context = statement.get("context")
    for kind in ("grouping", "parent"):
        for activity in context_activities(context, kind):
            if activity_type(activity) == COURSE_TYPE and isinstance(activity.get("id"), str):
                return str(activity["id"])
    return ""
