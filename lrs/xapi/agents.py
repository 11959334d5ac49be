"""Agents: the key that identifies one, and the account agents that stand for this LRS's users.

An agent (or identified group) is identified by one inverse functional
identifier (xAPI-Data.md 2.4.2.3); ``agent_key`` writes it as one string, which
the stores index and compare. A user of this LRS is, in xAPI, the account agent
``{"account": {"homePage": LRS_ACCOUNT_HOMEPAGE, "name": <username>}}``;
``AccountAgents`` maps usernames to those agents and back, in one place.
"""

from dataclasses import dataclass
from typing import Any


def agent_key(agent: Any) -> str | None:
    """The inverse functional identifier of an agent or identified group, as one string.

    ``None`` for anything else, including an object whose identifier is not
    well formed (a valid statement has none such; JSON inside extensions may).
    """
    if not isinstance(agent, dict):
        return None
    if "mbox" in agent:
        mbox = agent["mbox"]
        return f"mbox:{mbox}" if isinstance(mbox, str) else None
    if "mbox_sha1sum" in agent:
        digest = agent["mbox_sha1sum"]
        return f"mbox_sha1sum:{digest.lower()}" if isinstance(digest, str) else None
    if "openid" in agent:
        openid = agent["openid"]
        return f"openid:{openid}" if isinstance(openid, str) else None
    if "account" in agent:
        try:
            homepage, name = agent["account"]["homePage"], agent["account"]["name"]
        except (TypeError, KeyError):
            return None
        return f"account:{homepage}|{name}" if type(homepage) is type(name) is str else None
    return None


def with_agents_replaced(value: Any, keys: frozenset[str], replacement: dict[str, Any]) -> Any:
    """``value`` (a statement, or any part of one) with every agent of ``keys`` replaced.

    Any object with an inverse functional identifier in ``keys``, wherever
    it is (actor, object, group members, context agents, authority,
    sub-statements, and extensions too), becomes a copy of ``replacement``,
    keeping its ``objectType``; its name and other properties go with it.
    Everything else is copied as it is.
    """
    if type(value) is list:
        return [
            with_agents_replaced(item, keys, replacement) if type(item) in _CONTAINERS else item
            for item in value
        ]
    if type(value) is not dict:
        return value
    if not value.keys().isdisjoint(_IDENTIFIERS) and agent_key(value) in keys:
        found = dict(replacement)
        if "objectType" in value:
            found["objectType"] = value["objectType"]
        return found
    return {
        name: with_agents_replaced(item, keys, replacement) if type(item) in _CONTAINERS else item
        for name, item in value.items()
    }


# What JSON nests in, and the properties that identify an agent.
_CONTAINERS = (dict, list)
_IDENTIFIERS = frozenset({"mbox", "mbox_sha1sum", "openid", "account"})


@dataclass(frozen=True)
class AccountAgents:
    """The account agents of this LRS's users, on one home page (``LRS_ACCOUNT_HOMEPAGE``)."""

    homepage: str

    def agent(self, username: str) -> dict[str, Any]:
        """The account agent of ``username``."""
        return {"account": {"homePage": self.homepage, "name": username}}

    def key(self, username: str) -> str:
        """The agent key of ``username``'s account agent."""
        return f"account:{self.homepage}|{username}"

    def username(self, key: str | None) -> str | None:
        """The user whose account agent has this key, or ``None`` for any other agent.

        IRIs cannot hold ``|`` (RFC 3987), so the key splits at the first one.
        """
        if key is None:
            return None
        kind, _, rest = key.partition(":")
        homepage, separator, name = rest.partition("|")
        if kind != "account" or not separator or homepage != self.homepage or not name:
            return None
        return name
