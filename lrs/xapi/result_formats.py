"""The ``format=ids`` and ``format=canonical`` views of a statement (xAPI-Communication.md 2.1.3).

``ids``: agents and groups keep only their identifier and ``objectType`` (an
anonymous group, its members reduced the same way), verbs and activities only
their ``id``, in statements and sub-statements alike.
``canonical``: every language map of verbs and activities keeps the one entry
that best fits the request's ``Accept-Language`` (the canonical activity
definitions themselves are the ones in the statement until the Activities
resource keeps merged definitions).
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
    return {"id": activity["id"]}


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
    # 2.0.0's context agents and groups keep their relevant types.
    for key, kind in (("contextAgents", "agent"), ("contextGroups", "group")):
        if key in context:
            context[key] = [{**item, kind: _actor(item[kind])} for item in context[key]]
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


def best_language(language_map: dict[str, str], accepted: list[str]) -> dict[str, str]:
    """The one entry of a language map that best fits the accepted languages, in order.

    A tag matches exactly, or by its primary language (``en`` fits ``en-US``);
    with no match, the map keeps its first entry (the LRS's choice).
    """
    if len(language_map) <= 1:
        return dict(language_map)
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in accepted:
        wanted = wanted.lower()
        if wanted == "*":
            break
        if wanted in lowered:
            return {lowered[wanted]: language_map[lowered[wanted]]}
        primary = wanted.split("-")[0]
        for tag_lower, tag in lowered.items():
            if tag_lower.split("-")[0] == primary:
                return {tag: language_map[tag]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def _canonical_activity(activity: dict[str, Any], accepted: list[str]) -> dict[str, Any]:
    definition = activity.get("definition")
    if not isinstance(definition, dict):
        return activity
    definition = dict(definition)
    for key in ("name", "description"):
        if key in definition:
            definition[key] = best_language(definition[key], accepted)
    for key in ("choices", "scale", "source", "target", "steps"):
        if key in definition:
            definition[key] = [
                {**item, "description": best_language(item["description"], accepted)}
                if "description" in item
                else item
                for item in definition[key]
            ]
    return {**activity, "definition": definition}


def canonical(statement: dict[str, Any], accepted: list[str]) -> dict[str, Any]:
    """Return the ``format=canonical`` form of a stored statement."""
    statement = dict(statement)
    verb = statement["verb"]
    if "display" in verb:
        statement["verb"] = {**verb, "display": best_language(verb["display"], accepted)}
    obj = statement["object"]
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        statement["object"] = _canonical_activity(obj, accepted)
    elif object_type == "SubStatement":
        statement["object"] = canonical(obj, accepted)
    context = statement.get("context")
    if isinstance(context, dict) and "contextActivities" in context:
        statement["context"] = {
            **context,
            "contextActivities": {
                key: [_canonical_activity(activity, accepted) for activity in items]
                for key, items in context["contextActivities"].items()
            },
        }
    return statement
