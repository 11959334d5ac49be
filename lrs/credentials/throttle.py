"""Repeated failed authentication is answered ``429`` with ``Retry-After``.

Failures are counted per credential key and per client address over a sliding
window. Past the limit of either, a failing request is told to wait instead of
being told it failed. A request whose credentials are right is never held
back, whatever its key or address has suffered: otherwise anyone could lock an
integration out by sending wrong secrets under its (public) key, or a whole
school out from behind one address. Secrets are 256-bit random tokens, so the
throttle is not what keeps them from being guessed; it tells clients stuck in
a loop of wrong secrets to back off, and keeps that noise small.

Counts live in the process: with several worker processes each counts its own.
"""

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureThrottle:
    """Counts failed authentications per key and per address; says how long to wait."""

    def __init__(
        self,
        limit: int = 30,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        tracked: int = 10_000,
    ) -> None:
        """Allow ``limit`` failures per key and per address within ``window`` seconds.

        Args:
            limit: failures allowed per key, and per address, in a window.
            window: the window's length in seconds.
            clock: seconds from any origin (tests pass their own).
            tracked: keys and addresses remembered at most; the oldest go first.
        """
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._tracked = tracked
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def failed(self, key: str, address: str) -> int:
        """Record a failure; return the seconds to wait (``0``: within the limits).

        Args:
            key: the credential key the request named ("" for none).
            address: the client's address.
        """
        now = self._clock()
        with self._lock:
            # Keys are at most 128 characters; longer names are kept short.
            waits = [self._record(f"key:{key[:129]}", now), self._record(f"address:{address}", now)]
        return max(waits)

    def _record(self, name: str, now: float) -> int:
        times = self._failures.pop(name, None) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        self._failures[name] = times  # now the most recent
        while len(self._failures) > self._tracked:
            self._failures.popitem(last=False)
        if len(times) <= self.limit:
            return 0
        # Until enough failures have left the window for one more to be within it.
        return max(1, math.ceil(times[-self.limit] + self.window - now))
