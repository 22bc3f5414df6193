"""Failed-login throttling: exponential back-off per username and per client address.

Each attempt is charged before the password is checked and refunded when it succeeds, so
concurrent guesses cannot all slip in before the first failure is counted, and a throttled
caller costs no argon2 hash (which would make the login route a CPU amplifier).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

LoginKey = tuple[str, str]


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass
class _Failures:
    count: int
    last_at: float


def login_keys(username: str, client: str) -> tuple[LoginKey, LoginKey]:
    return ("username", username.casefold()), ("address", client)


class LoginThrottle:
    """After ``max_failures`` failures of one key, the next attempt waits 1 s, then 2, 4,
    ... up to ``max_backoff_s``; a key's failures are forgotten ``window_s`` after its
    last one. At most ``capacity`` keys are remembered (the least recent go first)."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        max_backoff_s: float,
        *,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._window_s = window_s
        self._max_backoff_s = max_backoff_s
        self._capacity = capacity
        self._clock = clock
        self._failures: OrderedDict[LoginKey, _Failures] = OrderedDict()

    def _current(self, key: LoginKey, now: float) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and now - failures.last_at > self._window_s:
            del self._failures[key]
            return None
        return failures

    def retry_after(self, key: LoginKey) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = self._clock()
        failures = self._current(key, now)
        if failures is None or failures.count < self._max_failures:
            return 0.0
        backoff = min(2.0 ** (failures.count - self._max_failures), self._max_backoff_s)
        return max(0.0, failures.last_at + backoff - now)

    def charge(self, keys: Iterable[LoginKey]) -> None:
        """Count an attempt as failed, or raise :class:`LoginThrottled` without counting it."""
        keys = list(keys)
        wait = max(self.retry_after(key) for key in keys)
        if wait > 0:
            raise LoginThrottled(wait)
        now = self._clock()
        for key in keys:
            failures = self._current(key, now)
            if failures is None:
                self._failures[key] = _Failures(1, now)
            else:
                failures.count += 1
                failures.last_at = now
                self._failures.move_to_end(key)
        while len(self._failures) > self._capacity:
            self._failures.popitem(last=False)

    def refund(self, keys: Iterable[LoginKey], *, forget: Iterable[LoginKey] = ()) -> None:
        """A charged attempt succeeded: take it back, and forget ``forget`` entirely."""
        for key in forget:
            self._failures.pop(key, None)
        for key in keys:
            failures = self._failures.get(key)
            if failures is not None:
                failures.count -= 1
                if failures.count <= 0:
                    del self._failures[key]
