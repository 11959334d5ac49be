import pytest

from lrs.credentials.throttle import FailureThrottle
from tests.support import ADMIN, basic, make_app


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_failures_beyond_the_limit_are_told_to_wait_until_the_window_allows_one_more():
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60, clock=clock)
    assert [throttle.failed("k", "1.2.3.4") for _ in range(3)] == [0, 0, 0]
    assert throttle.failed("k", "1.2.3.4") == 60
    clock.now += 30
    assert throttle.failed("k", "1.2.3.4") == 30
    clock.now += 31  # the first three have left the window
    assert throttle.failed("k", "1.2.3.4") == 0


def test_keys_and_addresses_are_counted_apart():
    throttle = FailureThrottle(limit=2, window=60, clock=Clock())
    # One address trying many keys.
    assert [throttle.failed(f"key{n}", "10.0.0.1") for n in range(3)] == [0, 0, 60]
    # One key tried from many addresses.
    assert [throttle.failed("victim", f"10.0.1.{n}") for n in range(3)] == [0, 0, 60]


def test_what_is_remembered_is_bounded():
    throttle = FailureThrottle(limit=1, window=60, clock=Clock(), tracked=100)
    for n in range(1000):
        throttle.failed("x" * 10_000, f"10.{n // 256}.{n % 256}.1")
    assert len(throttle._failures) <= 100
    assert all(len(name) < 200 for name in throttle._failures)


@pytest.mark.parametrize("arguments", [{"limit": 0}, {"window": 0}])
def test_nonsense_limits_are_refused(arguments):
    with pytest.raises(ValueError):
        FailureThrottle(**arguments)


def test_wrong_secrets_get_429_and_right_ones_are_never_held_back():
    http = make_app(AUTH_FAILURE_LIMIT=5).test_client()
    wrong = basic(ADMIN[0], "wrong-secret-" + "0" * 20)
    statuses = [http.get("/api/v1/me", headers=wrong).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    refused = http.get("/api/v1/me", headers=wrong)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["message"]
    # The same key and address, with the right secret: straight through.
    assert http.get("/api/v1/me", headers=basic(*ADMIN)).status_code == 200
    # Another key from the same address: its failures wait too.
    other = basic("another-key-01", "x" * 32)
    assert http.get("/api/v1/me", headers=other).status_code == 429
    # A request with no credentials at all is not a guess: plain 401.
    assert http.get("/api/v1/me").status_code == 401


def test_each_client_address_has_its_own_budget():
    http = make_app(AUTH_FAILURE_LIMIT=2).test_client()
    wrong = basic("some-key-0001", "wrong-secret-" + "0" * 20)
    for _ in range(3):
        http.get("/api/v1/me", headers=wrong, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    elsewhere = basic("other-key-0001", "wrong-secret-" + "0" * 20)
    response = http.get("/api/v1/me", headers=elsewhere, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 401
