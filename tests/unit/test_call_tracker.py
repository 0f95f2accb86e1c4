from datetime import UTC, datetime, timedelta

from domain.calls import CallRecord, CallTracker

T0 = datetime(2024, 5, 6, 9, 0, 0, tzinfo=UTC)
UID = "1715000000.42"
AGENT_UID = "1715000000.43"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call_start(uid: str = UID, caller: str = "13912345678") -> dict[str, str]:
    return {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "Channel": "PJSIP/carrier-00000001",
        "CallerIDNum": caller,
        "Uniqueid": uid,
        "Linkedid": uid,
        "UserEvent": "HotlineCallStart",
        "Caller": caller,
    }


def route(
    action: str = "queue",
    queue: str = "hotline-general",
    priority: str = "5",
    target: str = "",
    path: str = "main>1>2",
    fallback: str = "no",
    uid: str = UID,
) -> dict[str, str]:
    return {
        "Event": "UserEvent",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": uid,
        "UserEvent": "HotlineRoute",
        "Action": action,
        "Queue": queue,
        "QueuePriority": priority,
        "Target": target,
        "Path": path,
        "Fallback": fallback,
    }


def queue_join(uid: str = UID, queue: str = "hotline-general") -> dict[str, str]:
    return {
        "Event": "QueueCallerJoin",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": uid,
        "Queue": queue,
        "Position": "1",
        "Count": "1",
    }


def agent_connect(hold: str = "12", member: str = "Zhang Wei", interface: str = "PJSIP/8001") -> dict[str, str]:
    return {
        "Event": "AgentConnect",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": UID,
        "DestChannel": "PJSIP/8001-00000002",
        "DestUniqueid": AGENT_UID,
        "Queue": "hotline-general",
        "MemberName": member,
        "Interface": interface,
        "HoldTime": hold,
        "RingTime": "3",
    }


def agent_complete(talk: str = "95", hold: str = "12") -> dict[str, str]:
    return {
        "Event": "AgentComplete",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": UID,
        "DestUniqueid": AGENT_UID,
        "Queue": "hotline-general",
        "MemberName": "Zhang Wei",
        "Interface": "PJSIP/8001",
        "HoldTime": hold,
        "TalkTime": talk,
        "Reason": "caller",
    }


def abandon(hold: str = "30") -> dict[str, str]:
    return {
        "Event": "QueueCallerAbandon",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": UID,
        "Queue": "hotline-general",
        "Position": "1",
        "OriginalPosition": "1",
        "HoldTime": hold,
    }


def hangup(uid: str = UID, cause: str = "16", cause_txt: str = "Normal Clearing") -> dict[str, str]:
    return {
        "Event": "Hangup",
        "Channel": "PJSIP/carrier-00000001",
        "Uniqueid": uid,
        "Cause": cause,
        "Cause-txt": cause_txt,
    }


def feed_all(tracker: CallTracker, events: list[tuple[float, dict[str, str]]]) -> list[CallRecord | None]:
    return [tracker.feed(event, at(seconds)) for seconds, event in events]


def test_answered_call() -> None:
    tracker = CallTracker()
    results = feed_all(
        tracker,
        [
            (0, call_start()),
            (8, route()),
            (8, queue_join()),
            (20, agent_connect()),
            (115, agent_complete()),
            (115, hangup()),
        ],
    )
    assert results[:-1] == [None] * 5
    assert results[-1] == CallRecord(
        uniqueid=UID,
        caller="13912345678",
        started_at=at(0),
        ivr_path="main>1>2",
        route_action="queue",
        queue="hotline-general",
        priority=5,
        transfer_target=None,
        agi_fallback=False,
        queue_joined_at=at(8),
        answered_at=at(20),
        ended_at=at(115),
        wait_seconds=12.0,
        agent="Zhang Wei",
        talk_seconds=95.0,
        hangup_cause="Normal Clearing",
        hangup_cause_code=16,
        abandoned=False,
    )
    assert tracker.live() == []


def test_answered_call_without_agent_complete_measures_talk_time_at_hangup() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start()), (8, route()), (8, queue_join()), (20, agent_connect(member=""))])
    record = tracker.feed(hangup(), at(80.5))
    assert record is not None
    assert record.agent == "8001"
    assert record.talk_seconds == 60.5
    assert record.abandoned is False


def test_abandoned_call() -> None:
    tracker = CallTracker()
    results = feed_all(
        tracker, [(0, call_start()), (5, route(fallback="yes")), (5, queue_join()), (35, abandon("30")), (35, hangup())]
    )
    record = results[-1]
    assert record is not None
    assert record.abandoned is True
    assert record.wait_seconds == 30.0
    assert record.agi_fallback is True
    assert record.answered_at is None and record.agent is None and record.talk_seconds is None
    assert record.ended_at == at(35)


def test_hangup_in_queue_without_abandon_event_counts_as_abandoned() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start()), (5, route()), (5, queue_join())])
    record = tracker.feed(hangup(cause="127", cause_txt="Interworking, unspecified"), at(47))
    assert record is not None
    assert record.abandoned is True
    assert record.wait_seconds == 42.0
    assert record.hangup_cause_code == 127


def test_transfer_call_never_queued() -> None:
    tracker = CallTracker()
    feed_all(
        tracker, [(0, call_start()), (6, route(action="transfer", queue="", priority="", target="110", path="main>9"))]
    )
    record = tracker.feed(hangup(), at(40))
    assert record is not None
    assert (record.route_action, record.transfer_target, record.ivr_path) == ("transfer", "110", "main>9")
    assert record.queue is None and record.priority is None
    assert record.queue_joined_at is None and record.wait_seconds is None
    assert record.abandoned is False
    assert record.talk_seconds is None


def test_refused_call() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start(caller="")), (2, route(action="hangup", queue="", priority="", path="barred"))])
    record = tracker.feed(hangup(cause="21", cause_txt="Call Rejected"), at(3))
    assert record is not None
    assert record.caller is None
    assert record.route_action == "hangup"
    assert record.hangup_cause == "Call Rejected" and record.hangup_cause_code == 21


def test_untracked_events_are_ignored() -> None:
    tracker = CallTracker()
    tracker.feed(call_start(), at(0))
    other = "1715000000.99"
    results = feed_all(
        tracker,
        [
            (1, route(uid=other)),
            (1, queue_join(uid=other)),
            (2, {"Event": "Newchannel", "Uniqueid": AGENT_UID, "Channel": "PJSIP/8001-00000002"}),
            (3, hangup(uid=AGENT_UID)),  # the agent's leg
            (3, hangup(uid=other)),
            (4, {"Event": "FullyBooted", "Status": "Fully Booted"}),
            (5, {"Event": "UserEvent", "UserEvent": "SomethingElse", "Uniqueid": UID}),
        ],
    )
    assert results == [None] * 7
    [live] = tracker.live()
    assert live.uniqueid == UID
    assert live.queue is None and live.queue_joined_at is None


def test_duplicate_start_event_does_not_reset_call() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start()), (4, route()), (9, call_start())])
    [live] = tracker.live()
    assert live.started_at == at(0)
    assert live.route_action == "queue"


def test_live_lists_calls_in_progress() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start("1.1")), (1, call_start("1.2")), (2, hangup("1.1"))])
    assert [r.uniqueid for r in tracker.live()] == ["1.2"]


def test_garbage_numbers_become_none() -> None:
    tracker = CallTracker()
    feed_all(
        tracker,
        [
            (0, call_start()),
            (1, route(priority="high")),
            (1, queue_join()),
            (10, agent_connect(hold="n/a")),
            (20, agent_complete(talk="nan")),
        ],
    )
    [live] = tracker.live()
    assert live.priority is None
    assert live.wait_seconds is None
    assert live.talk_seconds is None
    record = tracker.feed(hangup(cause="", cause_txt=""), at(30))
    assert record is not None
    assert record.hangup_cause is None and record.hangup_cause_code is None
    assert record.talk_seconds == 20.0  # measured, since TalkTime was unusable


def test_missing_headers_do_not_raise() -> None:
    tracker = CallTracker()
    tracker.feed({"Event": "UserEvent", "UserEvent": "HotlineCallStart", "Uniqueid": UID}, at(0))
    for name in ("QueueCallerJoin", "AgentConnect", "AgentComplete", "QueueCallerAbandon"):
        tracker.feed({"Event": name, "Uniqueid": UID}, at(1))
    tracker.feed({"Event": "UserEvent", "UserEvent": "HotlineRoute", "Uniqueid": UID}, at(1))
    record = tracker.feed({"Event": "Hangup", "Uniqueid": UID}, at(2))
    assert record is not None
    assert record.caller is None and record.agent is None and record.priority is None
    assert record.hangup_cause is None and record.hangup_cause_code is None


def test_blind_transfer_by_the_agent_is_recorded_on_the_caller_s_record() -> None:
    tracker = CallTracker()
    feed_all(tracker, [(0, call_start()), (6, route())])
    transfer = {
        "Event": "BlindTransfer",
        "Result": "Success",
        "TransfereeUniqueid": UID,
        "TransfererUniqueid": AGENT_UID,
        "Context": "cti-transfer",
        "Extension": "9001",
    }
    tracker.feed({**transfer, "Result": "Fail", "Extension": "9002"}, at(20))
    tracker.feed(transfer, at(30))
    record = tracker.feed(hangup(), at(60))
    assert record is not None and record.transfer_target == "9001"
