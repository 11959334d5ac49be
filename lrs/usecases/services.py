"""Everything a door works with, composed once from the settings: every door opens it.

``create_app`` and every ``lrs`` command open one ``Services`` from the one
``Settings``: the stores (``storage``), the account agents that stand for the
LRS's users in xAPI (``accounts``), and the assignment lifecycle with its
webhook (``assignments``). No door builds these itself.
"""

from dataclasses import dataclass

from lrs.closeable import Closeable
from lrs.settings import Settings
from lrs.usecases.assignments import Assignments
from lrs.usecases.storage import Storage, open_storage
from lrs.usecases.webhook import Webhook
from lrs.xapi.agents import AccountAgents


@dataclass
class Services(Closeable):
    """The settings, the stores, the account agents and the assignment lifecycle."""

    settings: Settings
    storage: Storage
    accounts: AccountAgents
    assignments: Assignments

    def close(self) -> None:
        """Post what the webhook has queued, then close every store."""
        try:
            self.assignments.close()
        finally:
            self.storage.close()


def accounts_of(settings: Settings) -> AccountAgents:
    """The account agents that stand for the LRS's users (``LRS_ACCOUNT_HOMEPAGE``)."""
    return AccountAgents(settings.account_homepage)


def open_services(settings: Settings, storage: Storage | None = None) -> Services:
    """Open the stores the settings name (or take ``storage``) and compose the rest.

    Raises:
        InvalidInput: the storage URL names no store a server can use.
        ServiceUnavailable: the store cannot be reached.
    """
    if storage is None:
        storage = open_storage(settings.storage_url, settings.history_url)
    storage.progress.session_gap_us = int(settings.session_gap_seconds * 1_000_000)
    accounts = accounts_of(settings)
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        webhook = Webhook(settings.webhook_url, settings.webhook_secret, storage.assignments)
    return Services(settings, storage, accounts, Assignments(storage, accounts, webhook))
