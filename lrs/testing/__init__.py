"""The contracts every store must keep, as pytest classes, and the helpers they use.

A backend -- ours or a third party's -- proves itself by subclassing a contract
and supplying a fixture that returns an empty store::

    from lrs.testing import UserStateClientContract

    class TestMyClient(UserStateClientContract):
        @pytest.fixture
        def client(self):
            return MyUserStateClient(...)

One module per store, each contract composed of classes split by behaviour
(a backend may compose only some of them while it grows):

| contract | module | fixture |
|---|---|---|
| ``UserStateClientContract`` | ``lrs.testing.clients`` | ``client`` |
| ``HistoryLogContract`` | ``lrs.testing.history`` | ``make_log`` (``make_log(retention)``) |
| ``CredentialStoreContract`` | ``lrs.testing.credentials`` | ``store`` |
| ``StatementStoreContract`` | ``lrs.testing.statements`` | ``statements`` |
| ``DocumentStoreContract`` | ``lrs.testing.documents`` | ``documents`` |
| ``EnrollmentStoreContract`` | ``lrs.testing.enrollments`` | ``enrollments`` |
| ``ActivityStoreContract`` | ``lrs.testing.activities`` | ``activities`` |
| ``AttachmentStoreContract`` | ``lrs.testing.attachments`` | ``attachments`` |
| ``ProgressStoreContract`` | ``lrs.testing.progress`` | ``progress`` |

The class names have no ``Test`` prefix, so pytest collects them only through
such subclasses. The contracts need pytest and hypothesis (the ``test``
extra); they are imported only when asked for, so ``lrs.testing``'s helpers
(``user``, ``block``, ``statement``...) need neither.
"""

from importlib import import_module
from typing import Any

from lrs.testing.helpers import (
    AUTHORITY,
    COURSE,
    DOCUMENT_CONTEXT,
    OTHER_COURSE,
    Key,
    XBlockLikeScope,
    block,
    entry,
    failures,
    nested,
    race,
    statement,
    states,
    user,
)

# Each contract and the module that holds it, imported on first use.
_CONTRACTS = {
    "UserStateClientContract": "clients",
    "StoredUserStateClientContract": "clients",
    "HistoryLogContract": "history",
    "CredentialStoreContract": "credentials",
    "StatementStoreContract": "statements",
    "DocumentStoreContract": "documents",
    "EnrollmentStoreContract": "enrollments",
    "ProgressStoreContract": "progress",
    "ErasureStoreContract": "erasures",
    "ExportLogContract": "exports",
    "AssignmentStoreContract": "assignments",
    "ActivityStoreContract": "activities",
    "AttachmentStoreContract": "attachments",
    "ForwardingStoreContract": "forwarding",
}

__all__ = [
    "AUTHORITY",
    "COURSE",
    "DOCUMENT_CONTEXT",
    "OTHER_COURSE",
    "Key",
    "XBlockLikeScope",
    "block",
    "entry",
    "failures",
    "nested",
    "race",
    "statement",
    "states",
    "user",
    *_CONTRACTS,
]


def __getattr__(name: str) -> Any:
    """Import a contract's module (and with it pytest) only when the contract is asked for."""
    if name in _CONTRACTS:
        return getattr(import_module(f"lrs.testing.{_CONTRACTS[name]}"), name)
    raise AttributeError(f"module 'lrs.testing' has no attribute {name!r}")
