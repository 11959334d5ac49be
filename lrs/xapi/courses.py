"""The course a statement is in: what progress, exports and the course activity chart read.

An edX course from a block key (``block-v1:Org+Course+Run+type@...``), else
the first activity of type course among the statement's grouping, then
parent, context activities (cmi5 and SCORM wrappers put the course there).
"""

from typing import Any

from lrs.clients.base import block_location

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
    object_id = target.get("id", "") if isinstance(target, dict) else ""
    if isinstance(object_id, str) and object_id.startswith("block-v1:"):
        course, _ = block_location(object_id)
        if course is not None:
            return course
    # Read on every statement stored (its course is indexed): the context
    # activities walked in place, not copied (``context_activities``).
    context = statement.get("context")
    found = context.get("contextActivities") if isinstance(context, dict) else None
    if not isinstance(found, dict):
        return ""
    for kind in ("grouping", "parent"):
        items = found.get(kind)
        for activity in items if isinstance(items, list) else (items,):
            if (
                isinstance(activity, dict)
                and activity_type(activity) == COURSE_TYPE
                and isinstance(activity.get("id"), str)
            ):
                return str(activity["id"])
    return ""
