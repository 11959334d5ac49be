"""Statements and records as people read them: "Ada completed Intro quiz, 92%, 3 min ago"."""

from datetime import datetime
from typing import Any

from lrs.clock import from_us
from lrs.usecases.names import last_part
from lrs.xapi import syntax
from lrs.xapi.agents import AccountAgents


def agent_name(agent: Any, accounts: AccountAgents) -> str:
    """Who an agent is, for people: its name, a user's username, its address, its account."""
    if not isinstance(agent, dict):
        return "someone"
    if isinstance(agent.get("name"), str) and agent["name"]:
        return str(agent["name"])
    account = agent.get("account")
    if isinstance(account, dict):
        if account.get("homePage") == accounts.homepage:
            return str(account.get("name"))
        return f"{account.get('name')} ({account.get('homePage')})"
    mbox = agent.get("mbox")
    if isinstance(mbox, str):
        return mbox.removeprefix("mailto:")
    return "an agent"


def object_name(obj: Any, accounts: AccountAgents) -> str:
    """What a statement is about, for people."""
    if not isinstance(obj, dict):
        return "something"
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return agent_name(obj, accounts)
    if kind == "StatementRef":
        return "a statement"
    if kind == "SubStatement":
        return "a sub-statement"
    name = syntax.language_text((obj.get("definition") or {}).get("name"))
    return name or str(obj.get("id", "an activity"))


def sentence(statement: dict[str, Any], accounts: AccountAgents) -> str:
    """A statement in words, without its time: "Ada completed Intro quiz, 92%"."""
    verb = statement.get("verb") or {}
    said = syntax.language_text(verb.get("display")) or last_part(str(verb.get("id", "did")))
    words = f"{agent_name(statement.get('actor'), accounts)} {said} "
    words += object_name(statement.get("object"), accounts)
    result = statement.get("result") or {}
    score = (result.get("score") or {}).get("scaled")
    if isinstance(score, int | float) and not isinstance(score, bool):
        words += f", {score:.0%}"
    elif result.get("success") is True:
        words += ", passed"
    elif result.get("success") is False:
        words += ", failed"
    return words


def happened(statement: dict[str, Any], stored_us: int) -> datetime:
    """When a statement says it happened (its timestamp), else when it was stored."""
    stamp = statement.get("timestamp")
    if isinstance(stamp, str) and syntax.is_timestamp(stamp, offset_required=False):
        return syntax.parse_timestamp(stamp)
    return from_us(stored_us)


def ago(moment: datetime, now: datetime) -> str:
    """How long ago, roughly: "just now", "3 min ago", "2 h ago", "5 days ago", or the date."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86_400:
        days = int(seconds // 86_400)
        return f"{days} day ago" if days == 1 else f"{days} days ago"
    return f"on {moment:%Y-%m-%d}"


def duration(us: int) -> str:
    """A time spent, for people: "45 s", "12 min", "2 h 5 min"."""
    seconds = us // 1_000_000
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
