"""Errors raised by the stores: learner-state clients and history logs.

The hierarchy mirrors edX's user-state client::

    UserStateError
    ├── DoesNotExist        the block (or its history) has no stored state
    ├── PermissionDenied    the caller may not read or write this learner's state
    ├── Conflict            a write contradicts what is stored (an id with other content)
    └── ServiceUnavailable  the store cannot be reached; nothing of the call was written

``lrs.clients`` exports them. Every client also carries these classes as attributes, so ``except
client.DoesNotExist`` works as it does with edX's client.
"""


class UserStateError(Exception):
    """Root of every error a learner-state client raises on purpose."""


class DoesNotExist(UserStateError):
    """The requested block has no stored state for this learner and scope."""


class PermissionDenied(UserStateError):
    """The caller is not allowed to access this learner's state."""


class Conflict(UserStateError):
    """A write contradicts what is stored, such as a statement id with other content."""


class PreconditionFailed(UserStateError):
    """A conditional write's precondition (If-Match, If-None-Match) does not hold."""


class ServiceUnavailable(UserStateError):
    """The backing store could not be reached or failed; retry later."""
