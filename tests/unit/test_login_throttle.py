from __future__ import annotations

from agent_api.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_opens_again_after_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("u") == 0
        throttle.failed("u")
    assert throttle.retry_after("u") == 60
    clock.now += 45
    assert throttle.retry_after("u") == 15
    clock.now += 15.1
    assert throttle.retry_after("u") == 0


def test_success_clears_the_failures() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=Clock())
    throttle.failed("u")
    throttle.succeeded("u")
    throttle.failed("u")
    assert throttle.retry_after("u") == 0


def test_only_usernames_failing_now_are_remembered() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock)
    for n in range(1000):
        throttle.retry_after(f"guess-{n}")  # checks alone remember nothing
    throttle.failed("wang")
    throttle.failed("li")
    assert throttle.tracked() == 2
    clock.now += 61
    throttle.retry_after("wang")
    assert throttle.tracked() == 0
