"""A credential made for a user the LRS knows: what the API, the dashboard and the CLI create.

A credential that acts for a user (a coach's, a learner's) names a username.
Named wrong, it would act for nobody, or for whoever later takes that name;
so the user must exist, unless the caller says it means an unknown one (a
user made later by an LMS, say).
"""

from lrs.credentials.base import Credential, Role
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.usecases.storage import Storage


def create_credential(
    storage: Storage,
    role: Role | str,
    *,
    username: str | None = None,
    name: str = "",
    allow_unknown_user: bool = False,
) -> tuple[Credential, str]:
    """Create a credential and return it with its secret (shown only now).

    Raises:
        InvalidInput: a bad role, name or username, or a username that is no
            user while ``allow_unknown_user`` is false; nothing is created.
    """
    if username is not None and not allow_unknown_user:
        try:
            storage.enrollments.get_user(username)
        except DoesNotExist:
            raise InvalidInput(
                f"no user {username!r}: create the user first, or say that the credential "
                "is for a user made later (allow_unknown_user, --allow-unknown-user)"
            ) from None
        except InvalidInput:
            pass  # a malformed username: the credential store says what is wrong with it
    return storage.credentials.create(role, username=username, name=name)
