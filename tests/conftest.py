import os

import pytest

MONGODB_URI = os.environ.get("LRS_TEST_MONGODB_URI")


def real_mongodb_uri() -> str:
    """The real server's URL, or skip the test saying why."""
    if not MONGODB_URI:
        pytest.skip("LRS_TEST_MONGODB_URI is not set: no real MongoDB server to test against")
    return MONGODB_URI
