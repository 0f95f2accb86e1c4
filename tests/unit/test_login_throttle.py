from __future__ import annotations

import pytest

from agent_api.throttle import KNOWN_FOR_SECONDS, MissThrottle, SignInLimits, SignInThrottle
from domain.errors import TooMany
from hotline.settings import Settings
from hotline.system import api_limits

LIMITS = SignInLimits(per_user_at_address=3, per_address=5, overall=8, window_seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, username: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        throttle.admit(username, address)  # admitted, never succeeded: a failure


def refused(throttle: SignInThrottle, username: str, address: str) -> int:
    with pytest.raises(TooMany) as refusal:
        throttle.admit(username, address)
    assert refusal.value.code == "sign_ins_throttled"
    assert username not in refusal.value.detail and address not in refusal.value.detail
    return refusal.value.retry_after_seconds


def test_a_username_at_an_address_opens_again_after_the_window() -> None:
    clock = Clock()
    throttle = SignInThrottle(LIMITS, clock)
    fail(throttle, "wang", "10.0.0.7", 3)
    assert refused(throttle, "wang", "10.0.0.7") == 60
    clock.now += 45
    assert refused(throttle, "wang", "10.0.0.7") == 15
    clock.now += 15.1
    throttle.admit("wang", "10.0.0.7")


def test_failures_elsewhere_do_not_lock_a_user_out() -> None:
    throttle = SignInThrottle(LIMITS, Clock())
    fail(throttle, "wang", "10.6.6.6", 3)
    refused(throttle, "wang", "10.6.6.6")
    throttle.succeeded(throttle.admit("wang", "10.0.0.8"))


def test_one_address_is_limited_over_any_usernames() -> None:
    throttle = SignInThrottle(LIMITS, Clock())
    for n in range(5):
        fail(throttle, f"guess-{n}", "10.0.0.7")
    refused(throttle, "someone-else", "10.0.0.7")
    throttle.admit("guess-0", "10.0.0.8")


def test_failures_are_limited_overall_except_where_a_user_signed_in_before() -> None:
    clock = Clock()
    throttle = SignInThrottle(LIMITS, clock)
    throttle.succeeded(throttle.admit("wang", "10.0.0.8"))
    for n in range(8):
        fail(throttle, "li", f"10.2.0.{n}")
    refused(throttle, "li", "10.2.0.100")
    refused(throttle, "wang", "10.2.0.101")  # a new address for her: the overall limit holds
    throttle.succeeded(throttle.admit("wang", "10.0.0.8"))  # her own desk
    clock.now += KNOWN_FOR_SECONDS
    for n in range(8):
        fail(throttle, "li", f"10.3.0.{n}")
    refused(throttle, "wang", "10.0.0.8")  # known only for so long


def test_a_success_counts_against_no_budget() -> None:
    throttle = SignInThrottle(LIMITS, Clock())
    for n in range(20):
        throttle.succeeded(throttle.admit(f"agent-{n}", "10.0.0.7"))
    fail(throttle, "wang", "10.0.0.7", 3)
    refused(throttle, "wang", "10.0.0.7")


def test_only_failures_in_the_window_are_remembered() -> None:
    clock = Clock()
    throttle = SignInThrottle(LIMITS, clock)
    fail(throttle, "wang", "10.0.0.7")
    fail(throttle, "li", "10.0.0.8")
    assert throttle.tracked() == 2
    clock.now += 61
    assert throttle.tracked() == 0


def test_lookups_are_refused_after_misses_only() -> None:
    clock = Clock()
    lookups = MissThrottle(limit=2, window_seconds=60, clock=clock)
    for _ in range(10):
        lookups.check("10.0.0.7")  # hits: nothing counted
    lookups.missed("10.0.0.7")
    lookups.missed("10.0.0.7")
    with pytest.raises(TooMany) as refusal:
        lookups.check("10.0.0.7")
    assert refusal.value.retry_after_seconds == 60 and refusal.value.code == "lookups_throttled"
    lookups.check("10.0.0.8")
    clock.now += 60.1
    lookups.check("10.0.0.7")


def test_the_limits_come_from_settings() -> None:
    limits = api_limits(Settings(sign_in_failures_per_address=2, progress_misses_per_address=1, max_request_bytes=4096))
    sign_ins, lookups = limits["sign_in_throttle"], limits["progress_throttle"]
    fail(sign_ins, "a", "10.0.0.7")
    fail(sign_ins, "b", "10.0.0.7")
    refused(sign_ins, "c", "10.0.0.7")
    lookups.missed("10.0.0.7")
    with pytest.raises(TooMany):
        lookups.check("10.0.0.7")
    assert limits["max_body_bytes"] == 4096
