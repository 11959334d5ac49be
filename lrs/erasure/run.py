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
2. statements are rewritten (and, when asked, those of the pseudonym
   deleted); the learner's State and Agent Profile documents, learner state
   and its history are removed;
3. progress records are derived again: none for the old identities, the
   pseudonym's from the rewritten statements;
4. credentials are revoked and kept under the pseudonym; assignments keep
   no e-mail address or note, under the pseudonym;
5. the user record, enrollments and change records move to the pseudonym,
   without personal data (the last step that reads the user record: until
   it is done, a second run finds the user and redoes every step);
6. the audit record is finished, with the counts of the run that finished.
"""

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from lrs.clients.base import StoredUserStateClient
from lrs.clock import default_clock, from_us
from lrs.enrollments.base import User
from lrs.erasure.base import RETIRED_EMAIL_DOMAIN, Erasure, pseudonym_of
from lrs.erasure.removal import remove_statements
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.progress.rebuild import rebuild
from lrs.storage import Storage
from lrs.xapi.agents import AccountAgents

#: What becomes of a learner's statements: the pseudonym's account agent stands in.
PSEUDONYMIZED = "pseudonymized"
#: ... or they are deleted.
DELETED = "deleted"


def identities(accounts: AccountAgents, user: User) -> frozenset[str]:
    """The agent keys that stand for ``user`` in statements and documents."""
    keys = {accounts.key(user.username)}
    for address in {user.email, user.email.lower()} - {""}:
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
    kept). A learner erased already gets their record back, and nothing
    changes.

    Raises:
        InvalidInput: the reason is empty.
        DoesNotExist: there is no such user, and no erasure of them.
    """
    if not reason.strip():
        raise InvalidInput("give the reason for the erasure (it goes into the audit record)")
    _state(storage)  # before anything changes
    pseudonym = pseudonym_of(username, storage.erasures.salt())
    done = storage.erasures.get(pseudonym)
    if done is not None and done.finished is not None:
        return done
    try:
        user = storage.enrollments.get_user(username)
    except DoesNotExist:
        if done is None:
            raise DoesNotExist(f"no user {username!r}") from None
        user = None  # cut short after its user record moved: only the record is left
    started = done.started if done is not None else from_us(default_clock.now_us())
    mode = DELETED if delete_statements else PSEUDONYMIZED
    erasure = Erasure(pseudonym, started, credential, reason, mode)
    if user is None:
        return _finish(storage, erasure, {})
    keys = identities(accounts, user)
    if dry_run:
        return replace(erasure, counts=_counted(storage, accounts, user, keys))
    storage.erasures.put(erasure)
    counts = _erased(
        storage, accounts, user, keys, pseudonym, delete_statements, on_step or (lambda step: None)
    )
    return _finish(storage, erasure, counts)


def _counted(
    storage: Storage, accounts: AccountAgents, user: User, keys: frozenset[str]
) -> dict[str, int]:
    """What an erasure of ``user`` would change, per store."""
    return {
        "statements": len(storage.statements.with_agents(keys)),
        "documents": storage.documents.count_agents(keys),
        "state_blocks": _state(storage).count_user(user.username),
        "progress_records": _progress_records(storage, keys),
        "credentials": len(storage.credentials.of_user(user.username)),
        "assignments": len(storage.assignments.of_learner(user.username, [user.email])),
        "enrollments": _enrollments(storage, user),
        "users": 1,
    }


def _progress_records(storage: Storage, keys: frozenset[str]) -> int:
    return sum(len(storage.progress.summaries(learner=key)) for key in keys)


def _enrollments(storage: Storage, user: User) -> int:
    return sum(1 for _ in storage.enrollments.list_enrollments(username=user.username))


def _erased(
    storage: Storage,
    accounts: AccountAgents,
    user: User,
    keys: frozenset[str],
    pseudonym: str,
    delete_statements: bool,
    on_step: Callable[[str], None],
) -> dict[str, int]:
    """Every step of the erasure of ``user`` but the audit record's; the counts per store."""
    counts: dict[str, int] = {}
    on_step("statements")
    counts["statements"] = storage.statements.erase_agents(
        keys, {"account": {"homePage": accounts.homepage, "name": pseudonym}}
    )
    if delete_statements:
        # By the pseudonym, so that a second run finds what a first left.
        own = accounts.key(pseudonym)
        theirs = [
            record
            for record in map(storage.statements.get, storage.statements.with_agents({own}))
            if record is not None and own in record.terms.related_agents
        ]
        removed = remove_statements(storage, theirs)
        counts["statements_deleted"] = removed["statements"]
        counts["attachments"] = removed["attachments"]
    on_step("documents")
    counts["documents"] = storage.documents.forget_agents(keys)
    on_step("learner state")
    counts["state_blocks"] = _state(storage).forget_user(user.username)
    on_step("progress")
    counts["progress_records"] = _progress_records(storage, keys)
    for key in sorted(keys):
        rebuild(storage.progress, storage.statements, learner=key)
    rebuild(storage.progress, storage.statements, learner=accounts.key(pseudonym))
    on_step("credentials")
    counts["credentials"] = storage.credentials.retire_user(user.username, pseudonym)
    on_step("assignments")
    counts["assignments"] = storage.assignments.clear_personal(
        user.username, [user.email], pseudonym=pseudonym
    )
    on_step("user and enrollments")
    counts["enrollments"] = _enrollments(storage, user)
    counts["users"] = int(
        storage.enrollments.retire_user(
            user.username, pseudonym, f"{pseudonym}@{RETIRED_EMAIL_DOMAIN}"
        )
    )
    return counts


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
