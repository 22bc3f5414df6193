from __future__ import annotations

import pytest
from ecg_gateway.auth.throttle import LoginThrottle, LoginThrottled, login_keys


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def throttle(clock: FakeClock, **overrides: float) -> LoginThrottle:
    settings = {"max_failures": 3, "window_s": 900.0, "max_backoff_s": 60.0} | overrides
    return LoginThrottle(
        int(settings["max_failures"]),
        settings["window_s"],
        settings["max_backoff_s"],
        clock=clock,
    )


def test_after_the_allowed_failures_each_attempt_waits_twice_as_long(clock: FakeClock) -> None:
    limits = throttle(clock)
    keys = login_keys("alice", "10.0.0.1")
    waits = []
    for _ in range(3):
        limits.charge(keys)
    for _ in range(8):
        with pytest.raises(LoginThrottled) as caught:
            limits.charge(keys)
        waits.append(caught.value.retry_after_s)
        clock.now += caught.value.retry_after_s
        limits.charge(keys)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_throttled_attempt_is_not_counted(clock: FakeClock) -> None:
    limits = throttle(clock)
    keys = login_keys("alice", "10.0.0.1")
    for _ in range(3):
        limits.charge(keys)
    for _ in range(50):
        with pytest.raises(LoginThrottled):
            limits.charge(keys)
    assert limits.retry_after(keys[0]) == 1


def test_usernames_and_addresses_are_throttled_apart(clock: FakeClock) -> None:
    limits = throttle(clock)
    for attempt in range(3):
        limits.charge(login_keys(f"user{attempt}", "10.0.0.1"))
    with pytest.raises(LoginThrottled):
        limits.charge(login_keys("fresh-user", "10.0.0.1"))
    limits.charge(login_keys("user0", "10.0.0.2"))
    assert limits.retry_after(("username", "user0")) == 0


def test_usernames_compare_case_insensitively(clock: FakeClock) -> None:
    limits = throttle(clock)
    for name in ("Alice", "ALICE", "alice"):
        limits.charge(login_keys(name, f"10.0.0.{len(name)}{name[1]}"))
    assert limits.retry_after(("username", "alice")) > 0


def test_a_success_forgets_the_username_and_refunds_the_address(clock: FakeClock) -> None:
    limits = throttle(clock)
    keys = login_keys("alice", "10.0.0.1")
    limits.charge(keys)
    limits.charge(keys)
    limits.charge(keys)
    limits.refund(keys[1:], forget=keys[:1])
    assert limits.retry_after(keys[0]) == 0
    limits.charge(login_keys("alice", "10.0.0.9"))
    limits.charge(login_keys("alice", "10.0.0.9"))
    assert limits.retry_after(keys[0]) == 0, "the username's count started again"
    limits.charge(login_keys("bob", "10.0.0.1"))
    with pytest.raises(LoginThrottled):
        limits.charge(login_keys("carol", "10.0.0.1"))


def test_failures_are_forgotten_after_the_window(clock: FakeClock) -> None:
    limits = throttle(clock, window_s=100)
    keys = login_keys("alice", "10.0.0.1")
    for _ in range(3):
        limits.charge(keys)
    clock.now += 101
    assert limits.retry_after(keys[0]) == 0
    limits.charge(keys)
    limits.charge(keys)
    assert limits.retry_after(keys[0]) == 0


def test_memory_is_bounded_by_forgetting_the_least_recent(clock: FakeClock) -> None:
    limits = LoginThrottle(3, 900, 60, capacity=10, clock=clock)
    for _ in range(3):
        limits.charge(login_keys("alice", "10.0.0.1"))
    assert limits.retry_after(("username", "alice")) > 0
    for attempt in range(4):
        limits.charge(login_keys(f"user{attempt}", f"10.0.1.{attempt}"))
    assert limits.retry_after(("username", "alice")) > 0, "still within capacity"
    for attempt in range(4, 1000):
        limits.charge(login_keys(f"user{attempt}", f"10.0.{attempt // 250 + 1}.{attempt % 250}"))
    assert limits.retry_after(("username", "alice")) == 0
