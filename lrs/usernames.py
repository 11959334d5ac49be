"""What a username is, everywhere in the LRS: the learner-state client, users, credentials.

edX's rule (Django's): 1 to 150 letters (of any script), digits, or ``_``, ``.``,
``@``, ``+``, ``-``. One rule for every door: a username that one part of the
LRS accepts, every other part accepts too, and a malformed one (``%FF``, an
empty string, spaces) is refused before anything is stored.
"""

from lrs.exceptions import InvalidInput
from lrs.patterns import Whole

_USERNAME = Whole(r"[\w.@+-]{1,150}")


def is_username(value: object) -> bool:
    """Whether ``value`` is a username."""
    return _USERNAME(value)


# Usernames already checked: the client library checks one on every call, and
# a server sees the same few again and again. Bounded, so that a stream of
# distinct names cannot grow it without limit.
_CHECKED: set[str] = set()
_CHECKED_MAX = 65536


def check_username(username: object) -> str:
    """Return ``username`` if it is one.

    Raises:
        InvalidInput: it is not (a ``ValueError``); the message says the rule.
    """
    if type(username) is str and username in _CHECKED:
        return username
    if not is_username(username):
        raise InvalidInput(f"invalid username {username!r}: 1 to 150 letters, digits or _ . @ + -")
    name = str(username)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED.add(name)
    return name
