"""Each IVR node type's behaviour in the engine (the steps it asks for, where it goes next) and in
the simulator, on small flows that pass validation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from domain.calendar import Holiday, Notice, Scope, WorkingCalendar
from domain.tickets import SHANGHAI
from ivr.engine import (
    ALL_KEYS,
    MAX_NODE_VISITS,
    TICKET_NUMBER_DIGITS,
    BookCallback,
    CallFacts,
    Collect,
    Decision,
    Play,
    QueueLookup,
    QueueStatus,
    RecentCalls,
    Say,
    Step,
    TicketLookup,
    VoiceMessage,
    WorkingDayLookup,
    queue_announcement,
    run_flow,
    ticket_status_text,
)
from ivr.flow import Flow
from ivr.simulate import World, simulate
from ivr.validation import FlowCatalogue, parse_flow
from tests.calendars import SEEDED

CATALOGUE = FlowCatalogue(queues=("general", "dialect", "vip"), targets=("110",))
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning, a working day
CALLER = "13800138000"
ENDS = {
    "general": {"type": "queue", "queue": "general"},
    "bye": {"type": "hangup"},
    "police": {"type": "transfer", "target": "110"},
}


def make_flow(nodes: dict, language: str = "zh") -> Flow:
    """A validated flow starting at the first of `nodes`, with the ends general (queue), bye (hangup)
    and police (transfer); every prompt a node names is defined as text."""
    all_nodes = {**nodes, **ENDS}
    names = {n[f] for n in all_nodes.values() for f in ("prompt", "invalid_prompt") if n.get(f)}
    data = {
        "version": 1,
        "language": language,
        "start": next(iter(nodes)),
        "prompts": {name: f"{name}提示" for name in names},
        "nodes": all_nodes,
    }
    return parse_flow(data, CATALOGUE)


def facts(caller: str = CALLER, now: datetime = NOW, barred: bool = False, wait: float = 0.0) -> CallFacts:
    return CallFacts(caller, barred=barred, now=now, longest_wait_seconds=wait)


def drive(flow: Flow, call: CallFacts, answers: Sequence[object] = ()) -> tuple[list[Step], Decision]:
    """Runs the engine itself, answering its steps in turn; returns the steps asked for and the decision."""
    steps: list[Step] = []
    left = list(answers)
    run = run_flow(flow, call)
    try:
        step = next(run)
        while True:
            steps.append(step)
            step = run.send(left.pop(0))
    except StopIteration as done:
        assert not left, f"answers never asked for: {left}"
        return steps, done.value


# --- play -----------------------------------------------------------------------------------


def test_play_listens_for_its_keys_and_otherwise_goes_next() -> None:
    flow = make_flow(
        {"hello": {"type": "play", "prompt": "hello", "keys": {"0": "police", "9": "bye"}, "next": "general"}}
    )
    steps, decision = drive(flow, facts(), [""])
    assert steps == [Play("hello", "09", 0)]
    assert decision.path == ("hello", "general")
    assert drive(flow, facts(), ["9"])[1].path == ("hello", "bye")


def test_play_without_keys_does_not_take_the_callers_input() -> None:
    flow = make_flow({"hello": {"type": "play", "prompt": "hello", "next": "general"}})
    run = simulate(flow, facts(), ["1"])
    assert run.events == ("play hello",)
    assert run.inputs_left == ("1",)


# --- menu -----------------------------------------------------------------------------------

MENU = {
    "type": "menu",
    "prompt": "choose",
    "options": {"1": "general", "2": "police"},
    "invalid_prompt": "wrong",
    "fallback": "bye",
}
ASK = Play("choose", ALL_KEYS, 5)  # a menu hears every key, to tell a wrong one at once


def test_a_menu_key_goes_to_its_option() -> None:
    steps, decision = drive(make_flow({"m": MENU}), facts(), ["2"])
    assert steps == [ASK]
    assert (decision.action, decision.target, decision.path) == ("transfer", "110", ("m", "police"))


def test_an_invalid_key_plays_the_invalid_prompt_and_asks_again() -> None:
    steps, decision = drive(make_flow({"m": MENU}), facts(), ["7", None, "1"])
    assert steps == [ASK, Play("wrong"), ASK]
    assert (decision.action, decision.queue) == ("queue", "general")


def test_timeouts_use_up_the_retries_then_go_to_the_fallback() -> None:
    steps, decision = drive(make_flow({"m": MENU}), facts(), ["", None, "", None, ""])
    assert steps == [ASK, Play("wrong"), ASK, Play("wrong"), ASK]  # no invalid prompt after the last try
    assert (decision.action, decision.path) == ("hangup", ("m", "bye"))


def test_a_menu_without_retries_or_invalid_prompt_asks_once_with_its_timeout() -> None:
    menu = {**MENU, "retries": 0, "timeout_seconds": 9, "invalid_prompt": None}
    steps, decision = drive(make_flow({"m": menu}), facts(), [""])
    assert steps == [Play("choose", ALL_KEYS, 9)]
    assert decision.action == "hangup"


def test_the_simulator_passes_a_wrong_menu_key_on_to_be_told() -> None:
    run = simulate(make_flow({"m": MENU}), facts(), ["7", "1"])
    assert run.events == ("play choose, key 7", "play wrong", "play choose, key 1")
    assert run.decision.queue == "general"


LANGUAGE_FLOW = {
    "lang": {
        "type": "menu",
        "prompt": "lang",
        "options": {"1": "route", "2": "route"},
        "languages": {"2": "yue"},
        "fallback": "route",
    },
    "route": {"type": "condition", "test": "language", "language": "yue", "then": "cantonese", "else": "general"},
    "cantonese": {"type": "queue", "queue": "dialect"},
}


def test_a_menu_key_declares_the_language_which_a_condition_then_routes_on() -> None:
    run = simulate(make_flow(LANGUAGE_FLOW), facts(), ["2"])
    assert (run.decision.queue, run.decision.language) == ("dialect", "yue")
    assert run.decision.path == ("lang", "route", "cantonese")


@pytest.mark.parametrize("inputs", [["1"], []])
def test_without_a_declared_language_the_flows_language_is_kept(inputs: list[str]) -> None:
    run = simulate(make_flow(LANGUAGE_FLOW, language="zh"), facts(), inputs)
    assert (run.decision.queue, run.decision.language) == ("general", "zh")


# --- collect_digits -------------------------------------------------------------------------

COLLECT = {
    "type": "collect_digits",
    "prompt": "phone",
    "into": "phone",
    "min_digits": 4,
    "max_digits": 6,
    "retries": 0,
    "next": "general",
    "failed": "bye",
}


@pytest.mark.parametrize(
    "keyed, accepted",
    [
        ("1234", True),
        ("123456", True),
        ("123", False),
        ("1234567", False),
        ("12*4", False),
        ("12#4", False),
        ("", False),
        (None, False),
    ],
)
def test_collect_digits_accepts_only_min_to_max_digits(keyed: str | None, accepted: bool) -> None:
    steps, decision = drive(make_flow({"ask": COLLECT}), facts(), [keyed])
    assert steps == [Collect("phone", 6, 8)]
    assert decision.path == ("ask", "general" if accepted else "bye")


def test_collect_digits_asks_again_then_fails() -> None:
    node = {**COLLECT, "retries": 2, "invalid_prompt": "again", "timeout_seconds": 12}
    ask = Collect("phone", 6, 12)
    steps, decision = drive(make_flow({"ask": node}), facts(), ["12", None, "", None, "abcd"])
    assert steps == [ask, Play("again"), ask, Play("again"), ask]
    assert decision.path == ("ask", "bye")


def test_collected_digits_are_the_number_a_callback_offer_calls_back() -> None:
    flow = make_flow(
        {
            "ask": {**COLLECT, "min_digits": 7, "max_digits": 12, "next": "offer"},
            "offer": {
                "type": "callback_offer",
                "prompt": "offer",
                "queue": "vip",
                "number_from": "phone",
                "accepted": "bye",
                "declined": "general",
                "failed": "police",
            },
        }
    )
    steps, decision = drive(flow, facts(caller=""), ["02112345678", "1", True])
    assert steps[-1] == BookCallback("02112345678", "vip", 0)
    assert decision.path == ("ask", "offer", "bye")


# --- ticket_status --------------------------------------------------------------------------

TICKET = "2026120100007"
TICKET_STATUS = {
    "type": "ticket_status",
    "prompt": "ticket",
    "invalid_prompt": "wrong",
    "next": "general",
    "not_found": "bye",
    "failed": "police",
}


def test_a_found_ticket_is_told_with_its_status() -> None:
    steps, decision = drive(make_flow({"ts": TICKET_STATUS}), facts(), [TICKET, "办理中", None])
    assert steps == [
        Collect("ticket", TICKET_NUMBER_DIGITS, 10),
        TicketLookup(TICKET),
        Say(ticket_status_text(TICKET, "办理中")),
    ]
    assert steps[-1] == Say("工单号 2 0 2 6 1 2 0 1 0 0 0 0 7，当前状态：办理中。")
    assert decision.path == ("ts", "general")


def test_an_unknown_ticket_goes_to_not_found() -> None:
    run = simulate(make_flow({"ts": TICKET_STATUS}), facts(), [TICKET])
    assert run.events[-1] == f"ticket {TICKET}: not found"
    assert run.decision.path == ("ts", "bye")


def test_a_ticket_number_that_is_not_13_digits_is_asked_again_then_fails_without_a_lookup() -> None:
    run = simulate(
        make_flow({"ts": TICKET_STATUS}),
        facts(),
        [TICKET[:-1], TICKET + "1", "20261201000a7"],
        World(tickets={TICKET: "办理中"}),
    )
    assert run.events == (
        f"ask ticket, keyed {TICKET[:-1]}",
        "play wrong",
        f"ask ticket, keyed {TICKET}1",
        "play wrong",
        "ask ticket, keyed 20261201000a7",
    )
    assert (run.decision.action, run.decision.path) == ("transfer", ("ts", "police"))


# --- callback_offer -------------------------------------------------------------------------

OFFER = {
    "type": "callback_offer",
    "prompt": "offer",
    "queue": "vip",
    "priority": 5,
    "accepted": "bye",
    "declined": "general",
    "failed": "police",
}


@pytest.mark.parametrize("caller", [CALLER, "+8613800138000"])
def test_accepting_a_callback_books_it_for_the_caller_id(caller: str) -> None:
    steps, decision = drive(make_flow({"cb": OFFER}), facts(caller=caller), ["1", True])
    assert steps == [Play("offer", "1", 5), BookCallback(caller, "vip", 5)]
    assert decision.path == ("cb", "bye")


@pytest.mark.parametrize("caller", ["", "anonymous", "Restricted", "12"])
def test_a_withheld_caller_id_cannot_be_called_back(caller: str) -> None:
    steps, decision = drive(make_flow({"cb": OFFER}), facts(caller=caller), ["1"])
    assert steps == [Play("offer", "1", 5)]  # nothing booked
    assert decision.path == ("cb", "police")


def test_a_booking_that_fails_goes_to_failed() -> None:
    run = simulate(make_flow({"cb": OFFER}), facts(), ["1"], World(callback_booked=False))
    assert run.events[-1] == f"callback for {CALLER} keeps a place in vip: failed"
    assert run.decision.path == ("cb", "police")


@pytest.mark.parametrize("inputs", [[], ["2"]])
def test_no_accept_key_declines(inputs: list[str]) -> None:
    run = simulate(make_flow({"cb": {**OFFER, "accept_key": "1"}}), facts(), inputs)
    assert not any(event.startswith("callback") for event in run.events)
    assert run.decision.path == ("cb", "general")


def test_the_accept_key_is_configurable() -> None:
    steps, decision = drive(make_flow({"cb": {**OFFER, "accept_key": "#", "timeout_seconds": 7}}), facts(), ["#", True])
    assert steps[0] == Play("offer", "#", 7)
    assert decision.path == ("cb", "bye")


# --- speech_message -------------------------------------------------------------------------


@pytest.mark.parametrize("recorded, end", [(True, "bye"), (False, "general")])
def test_a_voice_message_goes_next_once_recorded_else_to_failed(recorded: bool, end: str) -> None:
    flow = make_flow({"msg": {"type": "speech_message", "prompt": "speak", "next": "bye", "failed": "general"}})
    steps, decision = drive(flow, facts(), [recorded])
    assert steps == [VoiceMessage("speak")]
    assert decision.path == ("msg", end)


# --- queue ----------------------------------------------------------------------------------

BUSY = QueueStatus(waiting=3, expected_seconds=240)


@pytest.mark.parametrize(
    "position, wait, text",
    [
        (True, False, "您前面还有3位来电。"),
        (False, True, "预计等待约4分钟。"),
        (True, True, "您前面还有3位来电。预计等待约4分钟。"),
    ],
)
def test_a_queue_announces_position_and_wait_when_asked(position: bool, wait: bool, text: str) -> None:
    node = {"type": "queue", "queue": "vip", "priority": 7, "announce_position": position, "announce_wait": wait}
    steps, decision = drive(make_flow({"q": node}), facts(), [BUSY, None])
    assert steps == [QueueLookup("vip"), Say(text)]
    assert text == queue_announcement(BUSY, position, wait)
    assert (decision.action, decision.queue, decision.priority) == ("queue", "vip", 7)


def test_a_queue_without_announcements_asks_nothing() -> None:
    run = simulate(make_flow({"q": {"type": "queue", "queue": "vip"}}), facts(), [], World(queue=BUSY))
    assert run.events == ()
    assert (run.decision.action, run.decision.queue, run.decision.path) == ("queue", "vip", ("q",))


@pytest.mark.parametrize(
    "status, text",
    [
        (QueueStatus(waiting=0, expected_seconds=0), "您是下一位。预计等待不到一分钟。"),
        (QueueStatus(waiting=1, expected_seconds=20), "您前面还有1位来电。预计等待不到一分钟。"),
        (QueueStatus(waiting=12, expected_seconds=600), "您前面还有12位来电。预计等待约10分钟。"),
    ],
)
def test_queue_announcement_texts(status: QueueStatus, text: str) -> None:
    assert queue_announcement(status, position=True, wait=True) == text


# --- conditions -----------------------------------------------------------------------------


def branch(condition: dict, call: CallFacts, answers: Sequence[object] = ()) -> bool:
    """Whether the condition takes `then`, run through the engine."""
    flow = make_flow({"c": {"type": "condition", **condition, "then": "general", "else": "bye"}})
    return drive(flow, call, answers)[1].path == ("c", "general")


@pytest.mark.parametrize("barred", [True, False])
def test_barred_caller(barred: bool) -> None:
    assert branch({"test": "barred_caller"}, facts(barred=barred)) is barred


@pytest.mark.parametrize("wait, long", [(0, False), (59.9, False), (60, True), (3000, True)])
def test_long_wait_is_at_least_wait_seconds(wait: float, long: bool) -> None:
    assert branch({"test": "long_wait", "wait_seconds": 60}, facts(wait=wait)) is long


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "moment, inside",
    [(at(8), True), (at(12, 30), True), (at(19, 59), True), (at(20), False), (at(7, 59), False), (at(23), False)],
)
def test_time_of_day_inside_and_outside(moment: datetime, inside: bool) -> None:
    assert branch({"test": "time_of_day", "between": ["08:00", "20:00"]}, facts(now=moment)) is inside


@pytest.mark.parametrize(
    "moment, inside",
    [
        (at(22), True),
        (at(23, 59), True),
        (at(0), True),
        (at(5, 59), True),
        (at(6), False),
        (at(12), False),
        (at(21, 59), False),
    ],
)
def test_time_of_day_range_passing_midnight(moment: datetime, inside: bool) -> None:
    assert branch({"test": "time_of_day", "between": ["22:00", "06:00"]}, facts(now=moment)) is inside


@pytest.mark.parametrize(
    "utc_hour, between, inside",
    [
        (1, ["08:00", "20:00"], True),  # 09:00 in Shanghai, 01:00 in UTC
        (13, ["08:00", "20:00"], False),  # 21:00 in Shanghai
        (15, ["22:00", "06:00"], True),  # 23:00 in Shanghai
        (23, ["22:00", "06:00"], False),  # 07:00 next morning in Shanghai
    ],
)
def test_time_of_day_is_shanghai_time_whatever_the_clocks_zone(utc_hour: int, between: list[str], inside: bool) -> None:
    moment = datetime(2026, 12, 1, utc_hour, 0, tzinfo=UTC)
    assert branch({"test": "time_of_day", "between": between}, facts(now=moment)) is inside


MAKE_UP_SATURDAY = date(2026, 10, 10)  # 调休: worked for the National Day holiday


def holiday(call: CallFacts, calendar: WorkingCalendar = SEEDED, closed_dates: Sequence[str] = ()) -> bool:
    """Whether the holiday condition takes `then`, the engine's calendar lookups answered from `calendar`."""
    flow = make_flow(
        {
            "c": {
                "type": "condition",
                "test": "holiday",
                "closed_dates": list(closed_dates),
                "then": "general",
                "else": "bye",
            }
        }
    )
    return simulate(flow, call, [], World(calendar=calendar)).decision.path == ("c", "general")


def test_the_holiday_condition_asks_the_calendar_about_the_shanghai_date() -> None:
    steps, _ = drive(
        make_flow({"c": {"type": "condition", "test": "holiday", "then": "general", "else": "bye"}}),
        facts(now=datetime(2026, 9, 30, 16, 30, tzinfo=UTC)),
        [True],
    )
    assert steps == [WorkingDayLookup(date(2026, 10, 1))]  # 00:30 on 1 October in Shanghai


@pytest.mark.parametrize(
    "day, is_holiday",
    [
        (date(2026, 10, 1), True),  # National Day
        (date(2026, 12, 1), False),  # a normal Tuesday
        (date(2026, 12, 5), True),  # a Saturday
        (date(2026, 12, 6), True),  # a Sunday
        (MAKE_UP_SATURDAY, False),
    ],
)
def test_holiday_follows_the_working_calendar(day: date, is_holiday: bool) -> None:
    assert holiday(facts(now=datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI))) is is_holiday


@pytest.mark.parametrize(
    "moment, is_holiday",
    [
        (datetime(2026, 9, 30, 16, 30, tzinfo=UTC), True),  # 1 October 00:30 in Shanghai
        (datetime(2026, 10, 9, 16, 30, tzinfo=UTC), False),  # the make-up Saturday, 00:30 in Shanghai
        (datetime(2026, 12, 4, 16, 30, tzinfo=UTC), True),  # Saturday 00:30 in Shanghai, Friday in UTC
    ],
)
def test_holiday_is_the_shanghai_date(moment: datetime, is_holiday: bool) -> None:
    assert holiday(facts(now=moment)) is is_holiday


@pytest.mark.parametrize("day, closed", [(1, True), (2, False)])
def test_closed_dates_are_holidays(day: int, closed: bool) -> None:
    assert holiday(facts(now=at(10, day=day)), closed_dates=["2026-12-01"]) is closed


def test_a_closed_date_needs_no_calendar_lookup() -> None:
    flow = make_flow(
        {
            "c": {
                "type": "condition",
                "test": "holiday",
                "closed_dates": ["2026-12-01"],
                "then": "general",
                "else": "bye",
            }
        }
    )
    assert drive(flow, facts(), [])[0] == []


@pytest.mark.parametrize("day, is_holiday", [(date(2027, 1, 1), False), (date(2027, 1, 2), True)])
def test_a_year_without_a_notice_counts_weekends_only(day: date, is_holiday: bool) -> None:
    assert not SEEDED.is_confirmed(2027)
    assert holiday(facts(now=datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI))) is is_holiday


def test_a_local_closed_day_is_a_holiday() -> None:
    closed = Notice(2026, Scope.LOCAL, "市政府通知", (Holiday("城市纪念日", date(2026, 12, 1), date(2026, 12, 1)),))
    assert holiday(facts(), SEEDED.with_notice(closed)) is True
    assert holiday(facts()) is False


@pytest.mark.parametrize("calls, repeat", [(0, False), (2, False), (3, True), (10, True)])
def test_repeat_caller_counts_calls_in_the_last_days(calls: int, repeat: bool) -> None:
    flow = make_flow(
        {
            "c": {
                "type": "condition",
                "test": "repeat_caller",
                "repeat_calls": 3,
                "repeat_days": 14,
                "then": "general",
                "else": "bye",
            }
        }
    )
    steps, decision = drive(flow, facts(), [calls])
    assert steps == [RecentCalls(14)]
    assert decision.path == ("c", "general" if repeat else "bye")


def test_repeat_caller_defaults_and_simulated_count() -> None:
    flow = make_flow({"c": {"type": "condition", "test": "repeat_caller", "then": "general", "else": "bye"}})
    run = simulate(flow, facts(), [], World(recent_calls=3))
    assert run.events == ("calls in the last 7 days: 3",)
    assert run.decision.path == ("c", "general")


def test_without_a_caller_id_nobody_is_a_repeat_caller_and_nothing_is_looked_up() -> None:
    flow = make_flow(
        {"c": {"type": "condition", "test": "repeat_caller", "repeat_calls": 1, "then": "general", "else": "bye"}}
    )
    steps, decision = drive(flow, facts(caller=""), [])
    assert steps == []
    assert decision.path == ("c", "bye")


@pytest.mark.parametrize("caller", ["anonymous", "Restricted"])
def test_a_withheld_caller_id_is_not_a_repeat_caller(caller: str) -> None:
    flow = make_flow(
        {"c": {"type": "condition", "test": "repeat_caller", "repeat_calls": 1, "then": "general", "else": "bye"}}
    )
    run = simulate(flow, facts(caller=caller), [], World(recent_calls=50))
    assert run.events == ()
    assert run.decision.path == ("c", "bye")


# --- the node visit budget ------------------------------------------------------------------


def test_a_caller_going_round_a_menu_for_ever_ends_in_the_fallback_decision() -> None:
    flow = make_flow(
        {
            "m": {
                "type": "menu",
                "prompt": "choose",
                "options": {"1": "again"},
                "languages": {"1": "yue"},
                "fallback": "general",
            },
            "again": {"type": "play", "prompt": "again", "next": "m"},
        }
    )
    run = simulate(flow, facts(), ["1"] * (MAX_NODE_VISITS // 2))  # the menu listens on every other visit
    assert run.decision.action == "fallback"
    assert run.decision.path == ("m", "again") * (MAX_NODE_VISITS // 2)
    assert run.decision.language == "yue"
    assert run.inputs_left == ()
