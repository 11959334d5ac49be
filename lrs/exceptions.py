"""Errors raised by the stores: learner-state clients and history logs.

The hierarchy mirrors edX's user-state client::

    UserStateError
    ├── InvalidInput        bad arguments or data; also a ValueError (400 over HTTP)
    │   └── InvalidValue    a value that cannot be kept as JSON; also a TypeError
    ├── DoesNotExist        the block (or its history) has no stored state
    ├── PermissionDenied    the caller may not read or write this learner's state
    ├── Conflict            a write contradicts what is stored (an id with other content)
    ├── PreconditionFailed  a conditional write's If-Match or If-None-Match does not hold
    └── ServiceUnavailable  the store cannot be reached; nothing of the call was written
        └── Busy            the server does as much of this work at once as it may; retry

``lrs.clients`` exports them. Every client also carries these classes as attributes, so ``except
client.DoesNotExist`` works as it does with edX's client.
"""


class UserStateError(Exception):
    """Root of every error a learner-state client raises on purpose."""


class InvalidInput(UserStateError, ValueError):
    """An argument or a piece of data that the store cannot accept; nothing was written.

    Also a ``ValueError``, so that ``except ValueError`` keeps working.
    """


class InvalidValue(InvalidInput, TypeError):
    """A value that is not JSON (a datetime, NaN, an integer beyond 64 bits...).

    Also a ``TypeError``, as edX's client raises for values it cannot serialise.
    """


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


class Busy(ServiceUnavailable):
    """The server is doing as much of this work at once as it may (exports); retry soon.

    Its message is for the client: it says which limit, and names no store.
    """
