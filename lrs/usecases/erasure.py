"""Erasing a learner: every store, in an order that a second run can always finish.

The learner's identities are their account agent on ``LRS_ACCOUNT_HOMEPAGE``
and the ``mailto:`` of their e-mail (as ``mbox`` and as ``mbox_sha1sum``).
By default statements are *pseudonymized*, not deleted: each of those
agents becomes the account agent of the pseudonym, the same in every
statement, so that course reports and counts stay right, and nothing in
them says who the learner was. (xAPI makes statements immutable to clients,
not to the LRS, which must not keep what it may no longer hold; voided
statements are rewritten too.) With ``delete_statements``, they are
pseudonymized first (so that statements that only target them keep no
trace in the terms they inherit), then every statement the learner appears
in is deleted, with its progress and the attachment data no statement names
any more.

The steps, each of which can be repeated without harm:

1. the audit record is written, unfinished (pseudonym, when, who, why);
2. the learner's identities are kept as erased (keyed hashes, with the
   pseudonym's agent): from then on every statement that names them is
   pseudonymized as it is stored, so none posted during the erasure, by the
   learner or about them, keeps who they were;
3. credentials are revoked and kept under the pseudonym, so the learner's
   own credentials stop posting before anything is rewritten;
4. statements are rewritten (and, when asked, those of the pseudonym
   deleted); the learner's State and Agent Profile documents, learner state
   and its history are removed;
5. progress records are derived again: none for the old identities, the
   pseudonym's from the rewritten statements; assignments keep no e-mail
   address or note, under the pseudonym;
6. a final pass repeats step 4 and 5 for what was written while they ran
   (documents and learner state written by a service credential; statements
   cannot be: step 2);
7. the user record, enrollments and change records move to the pseudonym,
   without personal data (the last step that reads the user record: until
   it is done, a second run finds the user and redoes every step);
8. the audit record is finished, with the counts of the run that finished.

Running an erasure that finished again repeats every step for the
identities that can still be known, the account agent of the username (the
e-mail address went with the user record; statements naming it have been
pseudonymized on arrival since step 2), and adds what it changed to the
record's counts.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lrs.clients.base import StoredUserStateClient
from lrs.clock import default_clock, from_us
from lrs.erasure.base import RETIRED_EMAIL_DOMAIN, Erasure, pseudonym_of
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.usecases.rebuild import rebuild
from lrs.usecases.removal import remove_statements
from lrs.usecases.storage import Storage
from lrs.xapi.agents import AccountAgents, agent_key

#: What becomes of a learner's statements: the pseudonym's account agent stands in.
PSEUDONYMIZED = "pseudonymized"
#: ... or they are deleted.
DELETED = "deleted"


def identities(accounts: AccountAgents, username: str, emails: Iterable[str]) -> frozenset[str]:
    """The agent keys that stand for a user in statements and documents."""
    keys = {accounts.key(username)}
    for address in emails:
        mbox = f"mailto:{address}"
        keys.add(f"mbox:{mbox}")
        keys.add(f"mbox_sha1sum:{hashlib.sha1(mbox.encode()).hexdigest()}")
    return frozenset(keys)


def erase_learner(
    storage: Storage,
    accounts: AccountAgents,
    username: str,
    *,
    reason: str,
    credential: str,
    dry_run: bool = False,
    delete_statements: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> Erasure:
    """Erase a learner from every store, or count what that would change (``dry_run``).

    Returns the audit record (with the counts per store; a dry run's is not
    kept). A learner erased already is erased again (see the module's
    docstring): their record comes back with what this run changed added.

    Raises:
        InvalidInput: the reason is empty.
        DoesNotExist: there is no such user, and no erasure of them.
    """
    if not reason.strip():
        raise InvalidInput("give the reason for the erasure (it goes into the audit record)")
    _state(storage)  # before anything changes
    pseudonym = pseudonym_of(username, storage.erasures.salt())
    done = storage.erasures.get(pseudonym)
    try:
        user = storage.enrollments.get_user(username)
    except DoesNotExist:
        if done is None:
            raise DoesNotExist(f"no user {username!r}") from None
        user = None  # its user record moved: what is left is found by the username
    started = done.started if done is not None else from_us(default_clock.now_us())
    mode = DELETED if delete_statements else PSEUDONYMIZED
    erasure = Erasure(pseudonym, started, credential, reason, mode)
    if done is not None:  # run again: the first run's record goes on
        erasure = replace(
            done, finished=None, statements=DELETED if delete_statements else done.statements
        )
    emails = [] if user is None else sorted({user.email, user.email.lower()} - {""})
    keys = identities(accounts, username, emails)
    learner = Learner(username, emails, keys, pseudonym, accounts, user is not None)
    return _run(storage, learner, erasure, done, dry_run, delete_statements, on_step)


def erase_agent(
    storage: Storage,
    accounts: AccountAgents,
    agent: Any,
    *,
    reason: str,
    credential: str,
    dry_run: bool = False,
    delete_statements: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> Erasure:
    """Erase an agent known only from statements (an address, another system's account).

    The agent (xAPI JSON) stands for someone who has no user here: their
    statements and documents are rewritten or deleted, and their progress
    derived again, as a learner's are; an ``mbox`` is erased with its
    ``mbox_sha1sum``. An agent that is the account of one of this LRS's users
    is that user's erasure (``erase_learner``), which knows all their names.

    Raises:
        InvalidInput: the reason is empty, or ``agent`` is no agent with an identifier.
        DoesNotExist: no statement or document names the agent, and it was never erased.
    """
    if not reason.strip():
        raise InvalidInput("give the reason for the erasure (it goes into the audit record)")
    key = agent_key(agent) if isinstance(agent, dict) else None
    if key is None:
        raise InvalidInput("name the agent as xAPI JSON with an identifier (mbox, account...)")
    username = accounts.username(key)
    if username is not None:
        return erase_learner(
            storage, accounts, username, reason=reason, credential=credential, dry_run=dry_run,
            delete_statements=delete_statements, on_step=on_step,
        )  # fmt: skip
    _state(storage)
    pseudonym = pseudonym_of(key, storage.erasures.salt())
    done = storage.erasures.get(pseudonym)
    emails = [key.removeprefix("mbox:mailto:")] if key.startswith("mbox:mailto:") else []
    keys = frozenset({key} | {_sha1_key(address) for address in emails})
    learner = Learner(None, emails, keys, pseudonym, accounts, False)
    if done is None and not _counted(storage, learner)["statements"]:
        if not storage.documents.count_agents(keys):
            raise DoesNotExist(f"no statement or document names the agent {key!r}")
    started = done.started if done is not None else from_us(default_clock.now_us())
    erasure = Erasure(pseudonym, started, credential, reason, _mode(delete_statements))
    if done is not None:
        erasure = replace(done, finished=None)
    return _run(storage, learner, erasure, done, dry_run, delete_statements, on_step)


def _sha1_key(address: str) -> str:
    return f"mbox_sha1sum:{hashlib.sha1(f'mailto:{address}'.encode()).hexdigest()}"


def _mode(delete_statements: bool) -> str:
    return DELETED if delete_statements else PSEUDONYMIZED


def _run(
    storage: Storage,
    learner: "Learner",
    erasure: Erasure,
    done: Erasure | None,
    dry_run: bool,
    delete_statements: bool,
    on_step: Callable[[str], None] | None,
) -> Erasure:
    """Count what an erasure would change (``dry_run``), or erase, and keep the record."""
    if dry_run:
        return replace(erasure, counts=_counted(storage, learner), finished=None)
    storage.erasures.put(erasure)
    counts = _erased(storage, learner, delete_statements, on_step or (lambda step: None))
    if done is not None and done.finished is not None:
        if not any(counts.values()):
            storage.erasures.put(done)  # nothing was left: the record stays as it was
            return done
        # Run again: the record keeps what every run changed.
        counts = {
            name: done.counts.get(name, 0) + counts.get(name, 0)
            for name in done.counts.keys() | counts.keys()
        }
    return _finish(storage, erasure, counts)


@dataclass(frozen=True)
class Learner:
    """Who is being erased: every name they go by, and who stands in for them."""

    username: str | None  # None: an agent known only from statements
    emails: list[str]
    keys: frozenset[str]  # their agent keys (``identities``)
    pseudonym: str
    accounts: AccountAgents
    has_user: bool  # whether their user record is still theirs

    @property
    def replacement(self) -> dict[str, Any]:
        """The agent that stands in for them in statements: the pseudonym's account."""
        return self.accounts.agent(self.pseudonym)


def _counted(storage: Storage, learner: Learner) -> dict[str, int]:
    """What an erasure of ``learner`` would change, per store."""
    username = learner.username
    return {
        "statements": len(storage.statements.with_agents(learner.keys)),
        "documents": storage.documents.count_agents(learner.keys),
        "state_blocks": 0 if username is None else _state(storage).count_user(username),
        "progress_records": _progress_records(storage, learner.keys),
        "credentials": 0 if username is None else len(storage.credentials.of_user(username)),
        "assignments": 0
        if username is None
        else len(storage.assignments.of_learner(username, learner.emails)),
        "enrollments": _enrollments(storage, username) if learner.has_user and username else 0,
        "users": int(learner.has_user),
    }


def _progress_records(storage: Storage, keys: frozenset[str]) -> int:
    return sum(len(storage.progress.summaries(learner=key)) for key in keys)


def _enrollments(storage: Storage, username: str) -> int:
    return sum(1 for _ in storage.enrollments.list_enrollments(username=username))


def _erased(
    storage: Storage,
    learner: Learner,
    delete_statements: bool,
    on_step: Callable[[str], None],
) -> dict[str, int]:
    """Every step of the erasure of ``learner`` but the audit record's; the counts per store."""
    on_step("identities")
    storage.erasures.erase_identities(learner.keys, learner.replacement)
    username = learner.username
    on_step("credentials")
    counts = {
        "credentials": 0
        if username is None
        else storage.credentials.retire_user(username, learner.pseudonym)
    }
    _add(counts, _rewritten(storage, learner, delete_statements, on_step))
    on_step("final pass")
    _add(counts, _rewritten(storage, learner, delete_statements, lambda step: None, final=True))
    if username is None:
        return counts  # no user record, no enrollments
    on_step("user and enrollments")
    counts["enrollments"] = _enrollments(storage, username)
    counts["users"] = int(
        storage.enrollments.retire_user(
            username, learner.pseudonym, f"{learner.pseudonym}@{RETIRED_EMAIL_DOMAIN}"
        )
    )
    return counts


def _rewritten(
    storage: Storage,
    learner: Learner,
    delete_statements: bool,
    on_step: Callable[[str], None],
    *,
    final: bool = False,
) -> dict[str, int]:
    """Every store but credentials and the user record rid of ``learner``; the counts."""
    counts: dict[str, int] = {}
    on_step("statements")
    counts["statements"] = storage.statements.erase_agents(
        learner.keys, learner.replacement, storage.yield_to_writers
    )
    # By the pseudonym, so that a second run finds what a first left.
    own = learner.accounts.key(learner.pseudonym)
    pseudonymous = storage.statements.with_agents({own})
    # Forwarding targets' answers about those statements may quote them.
    storage.forwarding.clear_answers(pseudonymous)
    if delete_statements:
        theirs = [
            record
            for record in map(storage.statements.get, pseudonymous)
            if record is not None and own in record.terms.related_agents
        ]
        removed = remove_statements(storage, theirs)
        counts["statements_deleted"] = removed["statements"]
        counts["attachments"] = removed["attachments"]
    on_step("documents")
    counts["documents"] = storage.documents.forget_agents(learner.keys)
    on_step("learner state")
    username = learner.username
    counts["state_blocks"] = 0 if username is None else _state(storage).forget_user(username)
    on_step("progress")
    counts["progress_records"] = _progress_records(storage, learner.keys)
    if (
        not final
        or any(counts[name] for name in ("statements", "progress_records"))
        or (counts.get("statements_deleted"))
    ):
        # (The final pass derives progress again only if it found anything.)
        for key in sorted(learner.keys):
            rebuild(storage.progress, storage.statements, learner=key)
        pseudonym = learner.accounts.key(learner.pseudonym)
        rebuild(storage.progress, storage.statements, learner=pseudonym)
    on_step("assignments")
    counts["assignments"] = (
        0
        if username is None
        else storage.assignments.clear_personal(
            username, learner.emails, pseudonym=learner.pseudonym
        )
    )
    return counts


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for name, count in more.items():
        counts[name] = counts.get(name, 0) + count


def _state(storage: Storage) -> StoredUserStateClient:
    """The learner-state client, which keeps its own store (as every server's does)."""
    if not isinstance(storage.state, StoredUserStateClient):
        raise InvalidInput("learner state is kept by another server: erase the learner there")
    return storage.state


def _finish(storage: Storage, erasure: Erasure, counts: dict[str, int]) -> Erasure:
    finished = replace(erasure, counts=counts, finished=_now())
    storage.erasures.put(finished)
    storage.empty_log()
    return finished


def _now() -> datetime:
    return from_us(default_clock.now_us())
