"""A round of a pull: what another LRS stored, imported here (docs/forwarding.md).

The forwarding sender (``lrs.usecases.forwarding.Sender``) holds the
source's lease and calls ``pull_round``; importing is this door's, as for
``lrs import statements --from-lrs``.
"""

from dataclasses import replace

from lrs.forwarding.base import DeadLetter, Target
from lrs.imports import remote
from lrs.imports.remote import RemoteError, RemoteLRS
from lrs.imports.statements import LocalTarget, import_statements
from lrs.usecases import forwarding
from lrs.usecases.forwarding import Sender, TryLater, stored_of
from lrs.xapi.prepare import iso
from lrs.xapi.validation import Version


def pull_round(sender: Sender, source: Target) -> int:
    """Import a round of what the source stored after its cursor; how many were new.

    Each round reads again from ``PULL_OVERLAP_US`` before the newest stored
    time it read: statements the source stored in that instant,
    or showed late, are read again and skipped by id, so none is missed.
    """
    since = (
        None
        if source.cursor is None
        else iso(max(0, source.cursor[0] - forwarding.PULL_OVERLAP_US))
    )
    items = []
    try:
        with RemoteLRS(source.url, (source.key, source.secret), transport=sender.transport) as lrs:
            # A round ends after PULL_PAGES pages of statements newer than the
            # cursor: those read again (the overlap) do not count, so that a
            # round always gets past them, however many share an instant.
            after_us, fresh = (0 if source.cursor is None else source.cursor[0]), 0
            for item in lrs.pages(since, Version(source.version)):
                items.append(item)
                fresh += stored_of(item.statement) > after_us
                if fresh >= forwarding.PULL_PAGES * remote.PAGE:
                    break
    except RemoteError as exc:
        sender.wait(source.id, TryLater(str(exc)))
        return 0
    summary = import_statements(items, LocalTarget(sender.storage), sender.authority)
    newest = max((stored_of(item.statement) for item in items), default=0)
    refused = [
        DeadLetter(
            source.id, statement_id, sender.clock.now_us(), 409, "stored here with other content"
        )
        for _, statement_id in summary.conflicts
    ]
    sender.storage.forwarding.add_dead(refused)

    def advance(held: Target) -> Target | None:
        if held.lease_holder != sender.holder:
            return None
        cursor = held.cursor if held.cursor and held.cursor[0] >= newest else (newest, "")
        return replace(
            held,
            cursor=cursor,
            delivered=held.delivered + summary.stored,
            dead=held.dead + len(refused),
            failures=0,
            last_error="; ".join(reason for _, reason in summary.invalid)[:500],
            next_try_us=0,
        )

    sender.storage.forwarding.change(source.id, advance)
    return summary.stored
