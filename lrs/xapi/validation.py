"""Validation of xAPI statements, per version (xAPI-Data.md section 2, and 2.0.0's changes).

``validate_statement(data, version)`` checks one statement completely and
raises ``StatementError`` naming the first offending property by its path
(``statement.object.definition.choices[2].id``) and the rule it breaks.
"""

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from enum import StrEnum
from typing import Any, cast

import orjson

from lrs.exceptions import InvalidInput
from lrs.strict_json import right_sized
from lrs.xapi import syntax


class Version(StrEnum):
    """The xAPI versions this LRS speaks."""

    V1_0_3 = "1.0.3"
    V2_0_0 = "2.0.0"


class StatementError(InvalidInput):
    """A statement breaks a rule of the specification (400 over HTTP; also a ``ValueError``)."""

    def __init__(self, path: str, message: str) -> None:
        """Name the property (by its path) and the rule."""
        super().__init__(f"{path}: {message}")
        self.path = path


INTERACTION_TYPES = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
# Section 2.4.4.1, Interaction Components: which lists each type may carry.
COMPONENT_LISTS = {
    "choice": {"choices"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "matching": {"source", "target"},
    "performance": {"steps"},
}
ALL_COMPONENT_LISTS = frozenset({"choices", "scale", "source", "target", "steps"})
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})
AGENT_PROPERTIES = frozenset({"objectType", "name", *IFIS})
GROUP_PROPERTIES = AGENT_PROPERTIES | {"member"}
ACCOUNT_PROPERTIES = frozenset({"homePage", "name"})
VERB_PROPERTIES = frozenset({"id", "display"})
ACTIVITY_PROPERTIES = frozenset({"objectType", "id", "definition"})
DEFINITION_PROPERTIES = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *ALL_COMPONENT_LISTS,
    }
)
COMPONENT_PROPERTIES = frozenset({"id", "description"})
STATEMENT_REF_PROPERTIES = frozenset({"objectType", "id"})
RESULT_PROPERTIES = frozenset(
    {"score", "success", "completion", "response", "duration", "extensions"}
)
SCORE_PROPERTIES = frozenset({"scaled", "raw", "min", "max"})
CONTEXT_PROPERTIES = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
CONTEXT_PROPERTIES_V2 = CONTEXT_PROPERTIES | {"contextAgents", "contextGroups"}
ATTACHMENT_PROPERTIES = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
SUBSTATEMENT_PROPERTIES = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
STATEMENT_PROPERTIES = (SUBSTATEMENT_PROPERTIES - {"objectType"}) | {
    "id",
    "stored",
    "authority",
    "version",
    "objectType",  # refused below with a clearer message than "unknown"
}


_NUMBER_TYPES = frozenset({int, float})
_IFI_SET = frozenset(IFIS)
_VERSIONS_V1 = re.compile(r"1\.0(\.[0-9]+)?")
_VERSIONS_V2 = re.compile(r"[12]\.0(\.[0-9]+)?")
# Data 2.3.2: the verb of a voiding statement.
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# What KnownValid remembers: agents and groups in the actor's place, verbs, activities.
_ACTOR, _VERB, _ACTIVITY = range(3)
# orjson writes str and int subclasses, datetimes and dataclasses as JSON; with
# these options it refuses them, and such values are checked every time.
_EXACT_TYPES = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class KnownValid:
    """Actors, verbs and activities already found valid, by their JSON text.

    Checking a statement is most of what storing one costs, and most of a
    statement repeats from one to the next: the learner, the verb, the
    activity with its definition, the course and module around it. A value
    whose JSON text was found valid before is valid again (validity depends
    on the value alone, and the text says what the value is), so each
    distinct one is checked once; what differs (results, registrations,
    timestamps) is checked every time, and an invalid value is never
    remembered. Each kind and version has its own texts: ``{"id": …,
    "display": …}`` is a valid verb and an invalid activity.

    For values parsed from JSON: a tuple would pass for the list it is written
    as. Memory is bounded: past ``budget`` bytes of text, everything is
    forgotten and learned again; texts longer than ``longest`` are not kept.
    Safe to share between threads (a dict's operations are atomic).
    """

    def __init__(self, budget: int = 16 * 2**20, longest: int = 1024) -> None:
        """Remember up to ``budget`` bytes of texts, each at most ``longest`` long."""
        self.budget = budget
        self.longest = longest
        self._seen: dict[tuple[Version, int], dict[bytes, None]] = {
            (version, kind): {} for version in Version for kind in (_ACTOR, _VERB, _ACTIVITY)
        }
        self._size = 0

    def check(
        self,
        kind: int,
        version: Version,
        value: Any,
        path: str,
        check: Callable[[Any, str], None],
    ) -> None:
        """``check(value, path)``, unless a value with the same text passed it before."""
        try:
            text = orjson.dumps(value, option=_EXACT_TYPES)
        except TypeError:  # orjson.JSONEncodeError too: not plain JSON, or too deep
            check(value, path)
            return
        seen = self._seen[version, kind]
        if text in seen:
            return
        check(value, path)
        if len(text) <= self.longest:
            if self._size + len(text) > self.budget:
                for texts in self._seen.values():
                    texts.clear()
                self._size = 0
            seen[right_sized(text)] = None  # orjson's own keeps 4 KB at least
            self._size += len(text)


class _Validator:
    """Walks one statement; each method checks the value at ``path``.

    A statement is checked at ingest, so this is written for speed: set
    operations in C where they decide, and the check of a leaf (a string, an
    IRI, a boolean) inline, with the method that words its message called only
    when the check fails. Paths of leaves are built only for messages.
    """

    def __init__(self, version: Version, known: KnownValid | None = None) -> None:
        self.version = version
        self.v2 = version == Version.V2_0_0
        self.known = known

    def once(self, kind: int, value: Any, path: str, check: Callable[[Any, str], None]) -> None:
        """``check(value, path)``, or nothing if ``known`` holds the value already."""
        if self.known is None:
            check(value, path)
        else:
            self.known.check(kind, self.version, value, path, check)

    # -- building blocks ------------------------------------------------

    def fail(self, path: str, message: str) -> StatementError:
        return StatementError(path, message)

    def object(
        self,
        value: Any,
        path: str,
        allowed: AbstractSet[str],
        required: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        # Section 2.2: nulls are refused (except inside extensions), and so
        # are properties the specification does not define.
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {_type_name(value)}")
        # Set operations and "in" run in C: the loops below run only to name
        # the offending property.
        if not value.keys() <= allowed:
            known = ", ".join(sorted(allowed))
            unknown = next(key for key in value if key not in allowed)
            raise self.fail(
                f"{path}.{unknown}", f"is not a property of this object (allowed: {known})"
            )
        if None in value.values():
            key = next(key for key, item in value.items() if item is None)
            raise self.fail(f"{path}.{key}", "must not be null")
        for key in required:
            if key not in value:
                raise self.fail(f"{path}.{key}", "is required")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, not {_type_name(value)}")
        return value

    def formatted(self, value: Any, path: str, check: Callable[[str], bool], what: str) -> str:
        text = self.string(value, path)
        if not check(text):
            raise self.fail(path, f"must be {what}, not {text!r}")
        return text

    def iri(self, value: Any, path: str) -> str:
        return self.formatted(value, path, syntax.is_iri, "an absolute IRI (with a scheme)")

    def uuid(self, value: Any, path: str) -> str:
        return self.formatted(value, path, syntax.is_uuid, "a UUID")

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be a boolean, not {_type_name(value)}")
        return value

    def number(self, value: Any, path: str) -> float:
        # Exact types: JSON numbers arrive as int or float, and bool (a
        # subclass of int) is not a number here. Also the fastest test.
        if type(value) not in _NUMBER_TYPES:
            raise self.fail(path, f"must be a number, not {_type_name(value)}")
        return cast(float, value)  # an int stays an int: float() would round it

    def array(self, value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array, not {_type_name(value)}")
        if non_empty and not value:
            raise self.fail(path, "must not be empty")
        return value

    def language_map(self, value: Any, path: str) -> None:
        # Section 2.2 and 4.2: keys are RFC 5646 tags, values strings.
        # Any key is allowed (the loop checks it is a tag); no value may be null.
        self.object(value, path, value.keys() if isinstance(value, dict) else frozenset())
        for tag, text in value.items():
            if not syntax.is_language_tag(tag):
                raise self.fail(f"{path}.{tag}", "is not an RFC 5646 language tag")
            if not isinstance(text, str):
                self.string(text, f"{path}.{tag}")

    def extensions(self, value: Any, path: str) -> None:
        # Section 2.4.4.1 Extensions: keys are IRIs; values are anything, even null.
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {_type_name(value)}")
        for key in value:
            if not syntax.is_iri(key):
                raise self.fail(f"{path}.{key}", "extension keys must be absolute IRIs")

    # -- agents and groups (section 2.4.2) --------------------------------

    def ifi(self, value: dict[str, Any], path: str, *, required: bool) -> None:
        present = value.keys() & _IFI_SET
        if len(present) != 1:
            if present:
                named = [key for key in IFIS if key in present]
                raise self.fail(path, f"must have one inverse functional identifier, not {named}")
            if required:
                raise self.fail(
                    path, f"needs one inverse functional identifier ({', '.join(IFIS)})"
                )
            return
        (kind,) = present
        item = value[kind]
        if kind == "mbox":
            if not (isinstance(item, str) and syntax.is_mailto(item)):
                self.formatted(item, f"{path}.mbox", syntax.is_mailto, "a mailto: IRI")
        elif kind == "account":
            account = self.object(item, f"{path}.account", ACCOUNT_PROPERTIES, ("homePage", "name"))
            homepage = account["homePage"]
            if not (isinstance(homepage, str) and syntax.is_iri(homepage)):
                self.iri(homepage, f"{path}.account.homePage")
            if not isinstance(account["name"], str):
                self.string(account["name"], f"{path}.account.name")
        elif kind == "mbox_sha1sum":
            self.formatted(item, f"{path}.mbox_sha1sum", syntax.is_sha1, "a hex SHA-1")
        else:
            self.iri(item, f"{path}.openid")

    def agent(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType", "Agent") != "Agent":
            raise self.fail(f"{path}.objectType", "must be 'Agent'")
        agent = self.object(value, path, AGENT_PROPERTIES)
        if "name" in agent and not isinstance(agent["name"], str):
            self.string(agent["name"], f"{path}.name")
        self.ifi(agent, path, required=True)

    def group(self, value: Any, path: str) -> None:
        group = self.object(value, path, GROUP_PROPERTIES, ("objectType",))
        if group["objectType"] != "Group":
            raise self.fail(f"{path}.objectType", "must be 'Group'")
        if "name" in group:
            self.string(group["name"], f"{path}.name")
        self.ifi(group, path, required=False)
        identified = not group.keys().isdisjoint(_IFI_SET)
        if not identified and "member" not in group:
            raise self.fail(f"{path}.member", "is required in an anonymous group")
        if "member" in group:
            members = self.array(group["member"], f"{path}.member", non_empty=not identified)
            for index, member in enumerate(members):
                # Groups contain agents only.
                self.agent(member, f"{path}.member[{index}]")

    def actor(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path)

    # -- verb (section 2.4.3) ---------------------------------------------

    def verb(self, value: Any, path: str) -> None:
        verb = self.object(value, path, VERB_PROPERTIES, ("id",))
        identifier = verb["id"]
        if not (isinstance(identifier, str) and syntax.is_iri(identifier)):
            self.iri(identifier, f"{path}.id")
        if "display" in verb:
            self.language_map(verb["display"], f"{path}.display")

    # -- objects (section 2.4.4) ------------------------------------------

    def activity(self, value: Any, path: str) -> None:
        activity = self.object(value, path, ACTIVITY_PROPERTIES, ("id",))
        if activity.get("objectType", "Activity") != "Activity":
            raise self.fail(f"{path}.objectType", "must be 'Activity'")
        identifier = activity["id"]
        if not (isinstance(identifier, str) and syntax.is_iri(identifier)):
            self.iri(identifier, f"{path}.id")
        if "definition" in activity:
            self.definition(activity["definition"], f"{path}.definition")

    def definition(self, value: Any, path: str) -> None:
        definition = self.object(value, path, DEFINITION_PROPERTIES)
        for key in ("name", "description"):
            if key in definition:
                self.language_map(definition[key], f"{path}.{key}")
        for key in ("type", "moreInfo"):
            if key in definition:
                iri = definition[key]
                if not (isinstance(iri, str) and syntax.is_iri(iri)):
                    self.iri(iri, f"{path}.{key}")
        if "extensions" in definition:
            self.extensions(definition["extensions"], f"{path}.extensions")
        if "interactionType" in definition or "correctResponsesPattern" in definition:
            self.interaction(definition, path)
        elif not definition.keys().isdisjoint(ALL_COMPONENT_LISTS):
            key = next(key for key in definition if key in ALL_COMPONENT_LISTS)
            raise self.fail(f"{path}.{key}", "is not allowed with interactionType None")

    def interaction(self, definition: dict[str, Any], path: str) -> None:
        interaction = definition.get("interactionType")
        if interaction is not None:
            self.string(interaction, f"{path}.interactionType")
            if interaction not in INTERACTION_TYPES:
                known = ", ".join(sorted(INTERACTION_TYPES))
                raise self.fail(f"{path}.interactionType", f"must be one of {known}")
        if "correctResponsesPattern" in definition:
            if interaction is None:
                raise self.fail(f"{path}.correctResponsesPattern", "needs an interactionType")
            patterns = self.array(
                definition["correctResponsesPattern"], f"{path}.correctResponsesPattern"
            )
            for index, pattern in enumerate(patterns):
                self.string(pattern, f"{path}.correctResponsesPattern[{index}]")
        allowed_lists = COMPONENT_LISTS.get(interaction or "", set())
        for key in ALL_COMPONENT_LISTS & definition.keys():
            if key not in allowed_lists:
                raise self.fail(
                    f"{path}.{key}", f"is not allowed with interactionType {interaction!r}"
                )
            self.components(definition[key], f"{path}.{key}")

    def components(self, value: Any, path: str) -> None:
        seen = set()
        for index, component in enumerate(self.array(value, path)):
            where = f"{path}[{index}]"
            item = self.object(component, where, COMPONENT_PROPERTIES, ("id",))
            identifier = self.string(item["id"], f"{where}.id")
            if identifier in seen:
                raise self.fail(f"{where}.id", f"repeats the id {identifier!r}")
            seen.add(identifier)
            if "description" in item:
                self.language_map(item["description"], f"{where}.description")

    def statement_ref(self, value: Any, path: str) -> None:
        ref = self.object(value, path, STATEMENT_REF_PROPERTIES, ("objectType", "id"))
        if ref["objectType"] != "StatementRef":
            raise self.fail(f"{path}.objectType", "must be 'StatementRef'")
        self.uuid(ref["id"], f"{path}.id")

    def statement_object(self, value: Any, path: str, *, in_substatement: bool) -> str:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be an object, not {_type_name(value)}")
        object_type = value.get("objectType", "Activity")
        if object_type == "Activity":
            self.once(_ACTIVITY, value, path, self.activity)
        elif object_type == "Agent":
            self.agent(value, path)
        elif object_type == "Group":
            self.group(value, path)
        elif object_type == "StatementRef":
            self.statement_ref(value, path)
        elif object_type == "SubStatement":
            if in_substatement:
                raise self.fail(
                    f"{path}.objectType", "a SubStatement cannot contain a SubStatement"
                )
            self.statement(value, path, substatement=True)
        else:
            raise self.fail(
                f"{path}.objectType",
                "must be Activity, Agent, Group, StatementRef or SubStatement",
            )
        return str(object_type)

    # -- result and context (sections 2.4.5, 2.4.6) -----------------------

    def result(self, value: Any, path: str) -> None:
        result = self.object(value, path, RESULT_PROPERTIES)
        if "score" in result:
            self.score(result["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in result and not isinstance(result[key], bool):
                self.boolean(result[key], f"{path}.{key}")
        if "response" in result and not isinstance(result["response"], str):
            self.string(result["response"], f"{path}.response")
        if "duration" in result:
            duration = result["duration"]
            if not (isinstance(duration, str) and syntax.is_duration(duration)):
                self.formatted(
                    duration, f"{path}.duration", syntax.is_duration, "an ISO 8601 duration"
                )
        if "extensions" in result:
            self.extensions(result["extensions"], f"{path}.extensions")

    def score(self, value: Any, path: str) -> None:
        score = self.object(value, path, SCORE_PROPERTIES)
        for key, item in score.items():
            if type(item) not in _NUMBER_TYPES:
                self.number(item, f"{path}.{key}")
        scaled, low, high = score.get("scaled"), score.get("min"), score.get("max")
        if scaled is not None and not -1 <= scaled <= 1:
            raise self.fail(f"{path}.scaled", "must be between -1 and 1")
        if low is not None and high is not None and not low < high:
            raise self.fail(f"{path}.min", "must be less than max")
        raw = score.get("raw")
        if raw is not None:
            if low is not None and raw < low:
                raise self.fail(f"{path}.raw", "must not be less than min")
            if high is not None and raw > high:
                raise self.fail(f"{path}.raw", "must not be more than max")

    def context(self, value: Any, path: str, object_type: str) -> None:
        allowed = CONTEXT_PROPERTIES_V2 if self.v2 else CONTEXT_PROPERTIES
        context = self.object(value, path, allowed)
        if "registration" in context:
            registration = context["registration"]
            if not (isinstance(registration, str) and syntax.is_uuid(registration)):
                self.uuid(registration, f"{path}.registration")
        if "instructor" in context:
            self.actor(context["instructor"], f"{path}.instructor")
        if "team" in context:
            self.group(context["team"], f"{path}.team")
        if "contextActivities" in context:
            where = f"{path}.contextActivities"
            activities = self.object(context["contextActivities"], where, CONTEXT_ACTIVITY_KEYS)
            for key, item in activities.items():
                items = item if isinstance(item, list) else [item]
                for index, activity in enumerate(items):
                    self.once(_ACTIVITY, activity, f"{where}.{key}[{index}]", self.activity)
        for key in ("revision", "platform"):
            if key in context:
                if object_type != "Activity":
                    raise self.fail(
                        f"{path}.{key}", "is allowed only when the object is an Activity"
                    )
                if not isinstance(context[key], str):
                    self.string(context[key], f"{path}.{key}")
        if "language" in context:
            language = context["language"]
            if not (isinstance(language, str) and syntax.is_language_tag(language)):
                self.formatted(
                    language, f"{path}.language", syntax.is_language_tag, "an RFC 5646 tag"
                )
        if "statement" in context:
            self.statement_ref(context["statement"], f"{path}.statement")
        if "extensions" in context:
            self.extensions(context["extensions"], f"{path}.extensions")
        if "contextAgents" in context:
            self.context_members(context["contextAgents"], f"{path}.contextAgents", "agent")
        if "contextGroups" in context:
            self.context_members(context["contextGroups"], f"{path}.contextGroups", "group")

    def context_members(self, value: Any, path: str, kind: str) -> None:
        # 2.0.0: contextAgents / contextGroups, each with optional relevantTypes.
        object_type = "contextAgent" if kind == "agent" else "contextGroup"
        allowed = frozenset({"objectType", kind, "relevantTypes"})
        for index, item in enumerate(self.array(value, path)):
            where = f"{path}[{index}]"
            member = self.object(item, where, allowed, ("objectType", kind))
            if member["objectType"] != object_type:
                raise self.fail(f"{where}.objectType", f"must be {object_type!r}")
            if kind == "agent":
                self.agent(member["agent"], f"{where}.agent")
            else:
                self.group(member["group"], f"{where}.group")
            if "relevantTypes" in member:
                types = self.array(
                    member["relevantTypes"], f"{where}.relevantTypes", non_empty=True
                )
                for position, iri in enumerate(types):
                    self.iri(iri, f"{where}.relevantTypes[{position}]")

    # -- attachments (section 2.4.11) --------------------------------------

    def attachments(self, value: Any, path: str) -> None:
        required = ("usageType", "display", "contentType", "length", "sha2")
        for index, item in enumerate(self.array(value, path)):
            where = f"{path}[{index}]"
            attachment = self.object(item, where, ATTACHMENT_PROPERTIES, required)
            self.iri(attachment["usageType"], f"{where}.usageType")
            self.language_map(attachment["display"], f"{where}.display")
            if "description" in attachment:
                self.language_map(attachment["description"], f"{where}.description")
            self.string(attachment["contentType"], f"{where}.contentType")
            length = attachment["length"]
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise self.fail(f"{where}.length", "must be a non-negative integer")
            self.string(attachment["sha2"], f"{where}.sha2")
            if "fileUrl" in attachment:
                self.iri(attachment["fileUrl"], f"{where}.fileUrl")

    # -- the statement (section 2.4) ----------------------------------------

    def statement(self, value: Any, path: str, *, substatement: bool = False) -> None:
        # Section 2.4.4.3: a SubStatement has no id, stored, version or authority.
        allowed = SUBSTATEMENT_PROPERTIES if substatement else STATEMENT_PROPERTIES
        statement = self.object(value, path, allowed, ("actor", "verb", "object"))
        if not substatement:
            if "objectType" in statement:
                raise self.fail(f"{path}.objectType", "is allowed only in a SubStatement")
            if "id" in statement:
                self.uuid(statement["id"], f"{path}.id")
            if "version" in statement:
                self.version_value(statement["version"], f"{path}.version")
            if "stored" in statement:
                self.timestamp(statement["stored"], f"{path}.stored")
            if "authority" in statement:
                self.authority(statement["authority"], f"{path}.authority")
        self.once(_ACTOR, statement["actor"], f"{path}.actor", self.actor)
        self.once(_VERB, statement["verb"], f"{path}.verb", self.verb)
        object_type = self.statement_object(
            statement["object"], f"{path}.object", in_substatement=substatement
        )
        if not substatement and statement["verb"]["id"] == VOIDED and object_type != "StatementRef":
            # Data 2.3.2: a voiding statement's object is the StatementRef it voids.
            raise self.fail(
                f"{path}.object",
                "a statement with the verb 'voided' must have a StatementRef object",
            )
        if "result" in statement:
            self.result(statement["result"], f"{path}.result")
        if "context" in statement:
            self.context(statement["context"], f"{path}.context", object_type)
        if "timestamp" in statement:
            self.timestamp(statement["timestamp"], f"{path}.timestamp")
        if "attachments" in statement:
            self.attachments(statement["attachments"], f"{path}.attachments")

    def timestamp(self, value: Any, path: str) -> None:
        # 2.0.0 requires the offset; 1.0.3 only recommends it.
        if isinstance(value, str) and syntax.is_timestamp(value, offset_required=self.v2):
            return
        self.string(value, path)
        what = "an ISO 8601 timestamp" + (" with a time zone offset" if self.v2 else "")
        raise self.fail(path, f"must be {what}, not {value!r}")

    def authority(self, value: Any, path: str) -> None:
        # Data 2.4.9: an Agent, or the anonymous Group of two Agents that an
        # OAuth consumer and its user make.
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
            if any(key in value for key in IFIS):
                raise self.fail(path, "an authority that is a Group must be anonymous")
            if len(value["member"]) != 2:
                raise self.fail(
                    f"{path}.member",
                    "an authority Group has exactly two Agents (OAuth consumer "
                    f"and user), not {len(value['member'])}",
                )
        else:
            self.agent(value, path)

    def version_value(self, value: Any, path: str) -> None:
        # Data 2.4.10: 1.0 or 1.0.x (and, under 2.0.0, 2.0 or 2.0.x).
        text = self.string(value, path)
        pattern = _VERSIONS_V2 if self.v2 else _VERSIONS_V1
        if not pattern.fullmatch(text):
            accepted = "1.0 or 1.0.x" + (", 2.0 or 2.0.x" if self.v2 else "")
            raise self.fail(path, f"must be a version {accepted}, not {text!r}")


def validate_statement(
    data: Any, version: Version, path: str = "statement", known: KnownValid | None = None
) -> None:
    """Check one statement against the rules of ``version``.

    Args:
        data: the statement, as parsed from JSON.
        version: the version whose rules apply.
        path: the statement's name in messages.
        known: parts found valid before, not checked again (see ``KnownValid``).

    Raises:
        StatementError: the first rule broken, naming the property's path.
    """
    _Validator(version, known).statement(data, path)


def validate_actor(data: Any, version: Version, path: str = "agent") -> None:
    """Check an Agent or Group on its own (a query's ``agent`` parameter).

    Raises:
        StatementError: the first rule broken, naming the property's path.
    """
    _Validator(version).actor(data, path)
