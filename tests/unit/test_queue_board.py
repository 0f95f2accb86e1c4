"""The agent and queue mirror folded from app_queue's AMI events (header names as in Asterisk 22)."""

from __future__ import annotations

from domain.agents import CallMode, Change, Presence, QueueBoard

CALLER = "Local/12345@hotline-00000001;2"
AGENT_CHANNEL = "PJSIP/8001-00000002"


def member(event: str, queue: str = "hotline-general", **extra: str) -> dict[str, str]:
    return {
        "Event": event,
        "Queue": queue,
        "MemberName": "wang",
        "Interface": "PJSIP/8001",
        "Penalty": "0",
        "Paused": "0",
        "PausedReason": "",
        "Status": "1",
        "LastCall": "0",
        **extra,
    }


def logged_in_board() -> QueueBoard:
    board = QueueBoard(wrapup_seconds=10)
    board.feed(member("QueueMemberAdded"), 100.0)
    board.feed(member("QueueMemberAdded", queue="hotline-business", Penalty="5"), 100.0)
    return board


def offered_call(board: QueueBoard, now: float = 200.0) -> None:
    board.feed({"Event": "UserEvent", "UserEvent": "HotlineRoute", "Uniqueid": "1.1", "Path": "greeting>general"}, now)
    board.feed(
        {
            "Event": "QueueCallerJoin",
            "Queue": "hotline-general",
            "Uniqueid": "1.1",
            "Channel": CALLER,
            "CallerIDNum": "13800138000",
        },
        now,
    )


def test_login_in_two_queues_with_penalties() -> None:
    board = logged_in_board()
    agent = board.agent_for_user("wang")
    assert agent is not None and agent.extension == "8001"
    assert agent.queues == {"hotline-general": 0, "hotline-business": 5}
    assert agent.presence(100.0, 10) is Presence.AVAILABLE


def test_pause_reason_and_logout() -> None:
    board = logged_in_board()
    changes = board.feed(member("QueueMemberPause", Paused="1", PausedReason="break"), 101.0)
    assert changes == [Change("agent", "8001")]
    agent = board.agents["8001"]
    assert (agent.presence(101.0, 10), agent.view(101.0, 10)["pause_reason"]) == (Presence.PAUSED, "break")
    board.feed(member("QueueMemberRemoved"), 102.0)
    assert board.agents["8001"].queues == {"hotline-business": 5}
    board.feed(member("QueueMemberRemoved", queue="hotline-business"), 102.0)
    assert board.agent_for_user("wang") is None


def test_a_call_from_queue_to_agent_to_wrap_up() -> None:
    board = logged_in_board()
    offered_call(board)
    assert [c.call_id for c in board.waiting()] == ["1.1"]
    assert board.feed({"Event": "AgentCalled", "Uniqueid": "1.1", "Interface": "PJSIP/8001"}, 201.0) == [
        Change("offered", "8001", "1.1")
    ]
    assert board.calls["1.1"].ivr_path == "greeting>general"
    board.feed(
        {
            "Event": "AgentConnect",
            "Uniqueid": "1.1",
            "Interface": "PJSIP/8001",
            "DestChannel": AGENT_CHANNEL,
            "HoldTime": "12",
        },
        212.0,
    )
    call = board.calls["1.1"]
    assert (call.mode, call.agent_channel, call.agent_extension) == (CallMode.TALKING, AGENT_CHANNEL, "8001")
    assert board.agents["8001"].presence(212.0, 10) is Presence.ON_CALL
    assert (board.answered, board.answered_in_time) == (1, 1)
    assert board.waiting() == []

    changes = board.feed({"Event": "Hangup", "Uniqueid": "1.1", "Channel": CALLER}, 300.0)
    assert Change("ended", "8001", "1.1") in changes
    assert board.agents["8001"].presence(305.0, 10) is Presence.WRAP_UP
    assert board.agents["8001"].view(305.0, 10)["wrap_up_seconds_left"] == 5.0
    assert board.agents["8001"].presence(311.0, 10) is Presence.AVAILABLE


def test_answers_after_15_seconds_do_not_count_as_in_time() -> None:
    board = logged_in_board()
    offered_call(board)
    board.feed(
        {
            "Event": "AgentConnect",
            "Uniqueid": "1.1",
            "Interface": "PJSIP/8001",
            "DestChannel": AGENT_CHANNEL,
            "HoldTime": "16",
        },
        216.0,
    )
    assert (board.answered, board.answered_in_time) == (1, 0)


def test_the_agent_leaving_a_call_that_goes_on_frees_the_agent() -> None:
    board = logged_in_board()
    offered_call(board)
    board.feed(
        {
            "Event": "AgentConnect",
            "Uniqueid": "1.1",
            "Interface": "PJSIP/8001",
            "DestChannel": AGENT_CHANNEL,
            "HoldTime": "1",
        },
        201.0,
    )
    changes = board.feed({"Event": "Hangup", "Uniqueid": "1.2", "Channel": AGENT_CHANNEL}, 250.0)
    assert changes == [Change("left", "8001", "1.1")]
    assert "1.1" in board.calls and board.calls["1.1"].agent_extension is None
    assert board.agents["8001"].call_id is None


def test_ring_no_answer_puts_the_call_back_to_waiting() -> None:
    board = logged_in_board()
    offered_call(board)
    board.feed({"Event": "AgentCalled", "Uniqueid": "1.1", "Interface": "PJSIP/8001"}, 201.0)
    board.feed({"Event": "AgentRingNoAnswer", "Uniqueid": "1.1", "Interface": "PJSIP/8001"}, 216.0)
    assert board.calls["1.1"].mode is CallMode.QUEUED
    assert board.agents["8001"].call_id is None


def test_reset_from_queue_status_replaces_the_mirror() -> None:
    board = logged_in_board()  # stale: Asterisk says otherwise below
    board.reset(
        [
            {"Event": "QueueParams", "Queue": "hotline-general"},
            {
                "Event": "QueueMember",
                "Queue": "hotline-general",
                "Name": "li",
                "Location": "PJSIP/8002",
                "Membership": "dynamic",
                "Penalty": "2",
                "Paused": "1",
                "PausedReason": "meeting",
                "Status": "1",
                "LastCall": "0",
            },
            {
                "Event": "QueueMember",
                "Queue": "hotline-general",
                "Name": "8003",
                "Location": "PJSIP/8003",
                "Membership": "static",
                "Penalty": "0",
                "Paused": "0",
                "Status": "1",
            },
            {
                "Event": "QueueEntry",
                "Queue": "hotline-general",
                "Uniqueid": "9.9",
                "Channel": CALLER,
                "CallerIDNum": "13900000000",
                "Wait": "40",
            },
        ],
        now=1000.0,
    )
    assert list(board.agents) == ["8002"]  # static members are not logged-in agents
    li = board.agents["8002"]
    assert (li.user, li.queues, li.pause_reason) == ("li", {"hotline-general": 2}, "meeting")
    wall = board.wallboard(1000.0)
    assert (wall["waiting"], wall["longest_wait_seconds"], wall["agents"]["paused"]) == (1, 40.0, 1)


def test_wallboard_counts_agents_by_presence_and_waits_per_queue() -> None:
    board = logged_in_board()
    offered_call(board, now=200.0)
    wall = board.wallboard(230.0)
    assert wall["queues"] == {"hotline-general": {"waiting": 1, "longest_wait_seconds": 30.0}}
    assert wall["agents"]["available"] == 1 and wall["agents_logged_in"] == 1


def test_a_caller_requeued_while_held_frees_the_agent() -> None:
    board = logged_in_board()
    offered_call(board)
    board.feed(
        {
            "Event": "AgentConnect",
            "Uniqueid": "1.1",
            "Interface": "PJSIP/8001",
            "DestChannel": AGENT_CHANNEL,
            "HoldTime": "1",
        },
        201.0,
    )
    board.calls["1.1"].mode = CallMode.HELD
    changes = board.feed(
        {"Event": "QueueCallerJoin", "Queue": "hotline-general", "Uniqueid": "1.1", "Channel": CALLER}, 260.0
    )
    assert changes == [Change("waiting", call_id="1.1"), Change("left", "8001", "1.1")]
    assert board.calls["1.1"].mode is CallMode.QUEUED and board.calls["1.1"].agent_extension is None
    assert board.agents["8001"].call_id is None
