"""The ``format=ids`` view of a statement (xAPI-Communication.md section 2.1.3).

Agents, groups, verbs and activities keep only what identifies them.
"""

from typing import Any

from lrs.xapi.validation import IFIS


def _actor(actor: Any) -> Any:
    if not isinstance(actor, dict):
        return actor
    kept = {key: actor[key] for key in ("objectType", *IFIS) if key in actor}
    if not any(key in actor for key in IFIS) and "member" in actor:
        # An anonymous group is identified by its members.
        kept["member"] = [_actor(member) for member in actor["member"]]
    return kept


def _activity(activity: dict[str, Any]) -> dict[str, Any]:
    return {"objectType": "Activity", "id": activity["id"]}


def _object(obj: dict[str, Any]) -> dict[str, Any]:
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return _activity(obj)
    if object_type in ("Agent", "Group"):
        actor: dict[str, Any] = _actor(obj)
        return actor
    if object_type == "SubStatement":
        return _statement(obj)
    return obj


def _context(context: dict[str, Any]) -> dict[str, Any]:
    context = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _actor(context[key])
    if "contextActivities" in context:
        context["contextActivities"] = {
            key: [_activity(activity) for activity in items]
            for key, items in context["contextActivities"].items()
        }
    return context


def _statement(statement: dict[str, Any]) -> dict[str, Any]:
    statement = dict(statement)
    statement["actor"] = _actor(statement["actor"])
    statement["verb"] = {"id": statement["verb"]["id"]}
    statement["object"] = _object(statement["object"])
    if "context" in statement:
        statement["context"] = _context(statement["context"])
    if "authority" in statement:
        statement["authority"] = _actor(statement["authority"])
    return statement


def ids_only(statement: dict[str, Any]) -> dict[str, Any]:
    """Return the ``format=ids`` form of a stored statement."""
    return _statement(statement)
