"""The shipped flow (ivr/flows/default.yaml) driven through the simulator, and how validation
reports the mistakes an admin makes while editing it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from domain.tickets import SHANGHAI
from ivr.engine import CallFacts, QueueStatus, ticket_status_text
from ivr.flow import Flow
from ivr.simulate import Simulation, World, simulate
from ivr.validation import FlowCatalogue, FlowError, InvalidFlow, load_flow, parse_flow

DEFAULT_FLOW = Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml"
CATALOGUE = FlowCatalogue(queues=("hotline-general",), targets=("110", "119", "120"))
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning
CALLER = "13800138000"
QUIET = CallFacts(CALLER, barred=False, now=NOW)
LONG_WAIT = CallFacts(CALLER, barred=False, now=NOW, longest_wait_seconds=120)
NO_KEY = "-"


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(DEFAULT_FLOW, CATALOGUE)


@pytest.fixture
def flow_data() -> dict:
    return yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8"))


def played(run: Simulation) -> list[str]:
    """The prompts the caller heard played, in order ("play <prompt>, key …" events)."""
    return [event.removeprefix("play ").split(",")[0] for event in run.events if event.startswith("play ")]


# --- calls through the shipped flow ---------------------------------------------------------


def test_a_caller_is_queued_after_greeting_and_emergency_notice(flow: Flow) -> None:
    run = simulate(flow, QUIET, [])
    assert played(run) == ["greeting", "emergency_notice"]
    assert (run.decision.action, run.decision.queue, run.decision.priority) == ("queue", "hotline-general", 0)
    assert run.decision.path == ("greeting", "emergency_notice", "barred_check", "wait_check", "general")
    assert run.decision.language == "zh"


def test_the_caller_hears_their_place_in_the_queue(flow: Flow) -> None:
    run = simulate(flow, QUIET, [], World(queue=QueueStatus(waiting=4, expected_seconds=300)))
    assert run.events[-2:] == ("queue hotline-general: 4 waiting, about 300 s", "say 您前面还有4位来电。")


@pytest.mark.parametrize(
    "inputs, path", [(["0"], ("greeting", "police")), ([NO_KEY, "0"], ("greeting", "emergency_notice", "police"))]
)
def test_key_0_during_either_prompt_goes_to_110(flow: Flow, inputs: list[str], path: tuple[str, ...]) -> None:
    run = simulate(flow, QUIET, inputs)
    assert (run.decision.action, run.decision.target) == ("transfer", "110")
    assert run.decision.path == path


def test_other_keys_are_ignored(flow: Flow) -> None:
    run = simulate(flow, QUIET, ["5"])
    assert run.events[0] == "play greeting, key none (ignored 5)"
    assert (run.decision.action, run.decision.queue) == ("queue", "hotline-general")


def test_a_barred_caller_hears_the_notice_then_is_refused(flow: Flow) -> None:
    run = simulate(flow, CallFacts(CALLER, barred=True, now=NOW), [])
    assert played(run) == ["greeting", "emergency_notice", "barred_notice"]
    assert run.decision.action == "hangup"
    assert run.decision.path[-3:] == ("barred_check", "barred", "refuse")


@pytest.mark.parametrize("wait, offered", [(0, False), (119.9, False), (120, True), (600, True)])
def test_the_voice_message_offer_depends_on_the_longest_wait(flow: Flow, wait: float, offered: bool) -> None:
    run = simulate(flow, CallFacts(CALLER, barred=False, now=NOW, longest_wait_seconds=wait), [])
    assert ("long_wait_offer" in played(run)) is offered
    assert run.decision.action == "queue"


def test_a_recorded_voice_message_ends_the_call_with_thanks(flow: Flow) -> None:
    run = simulate(flow, LONG_WAIT, [NO_KEY, NO_KEY, "1", "我家楼下路灯坏了"])
    assert played(run) == ["greeting", "emergency_notice", "long_wait_offer", "message_thanks"]
    assert "voice message after message_prompt: recorded" in run.events
    assert run.decision.action == "hangup"
    assert run.decision.path[-4:] == ("message_offer", "leave_message", "message_thanks", "message_done")


def test_a_voice_message_that_could_not_be_recorded_queues_the_caller(flow: Flow) -> None:
    run = simulate(flow, LONG_WAIT, [NO_KEY, NO_KEY, "1", NO_KEY])
    assert "voice message after message_prompt: none" in run.events
    assert "message_thanks" not in played(run)
    assert (run.decision.action, run.decision.queue) == ("queue", "hotline-general")
    assert run.decision.path[-2:] == ("leave_message", "general")


def test_key_0_during_the_long_wait_offer_goes_to_110(flow: Flow) -> None:
    run = simulate(flow, LONG_WAIT, [NO_KEY, NO_KEY, "0"])
    assert (run.decision.action, run.decision.target) == ("transfer", "110")


def test_a_caller_who_waits_on_is_offered_a_callback_that_keeps_their_place(flow: Flow) -> None:
    run = simulate(flow, LONG_WAIT, [NO_KEY, NO_KEY, NO_KEY, "2"])
    assert f"callback for {CALLER} keeps a place in hotline-general: booked" in run.events
    assert played(run)[-1] == "keep_place_thanks"
    assert run.decision.action == "hangup"
    assert run.decision.path[-3:] == ("keep_place", "keep_place_thanks", "message_done")


def test_a_caller_who_declines_both_offers_stays_in_the_queue(flow: Flow) -> None:
    run = simulate(flow, LONG_WAIT, [NO_KEY, NO_KEY, NO_KEY, NO_KEY])
    assert not any(event.startswith("callback for") for event in run.events)
    assert run.decision.path[-3:] == ("message_offer", "keep_place", "general")


def test_a_withheld_caller_cannot_keep_a_place_and_is_queued(flow: Flow) -> None:
    run = simulate(
        flow, CallFacts("anonymous", barred=False, now=NOW, longest_wait_seconds=300), [NO_KEY, NO_KEY, NO_KEY, "2"]
    )
    assert not any(event.startswith("callback for") for event in run.events)
    assert (run.decision.action, run.decision.queue) == ("queue", "hotline-general")
    assert run.decision.path[-2:] == ("keep_place", "general")


def test_key_9_tells_a_tickets_status_then_key_0_queues(flow: Flow) -> None:
    number = "2026120100007"
    run = simulate(flow, QUIET, ["9", number, "0"], World(tickets={number: "办理中"}))
    assert f"say {ticket_status_text(number, '办理中')}" in run.events
    assert run.decision.path == ("greeting", "ticket_lookup", "ticket_more", "general")
    assert run.inputs_left == ()


def test_an_unknown_ticket_number_is_told_and_the_caller_may_try_again(flow: Flow) -> None:
    run = simulate(
        flow, QUIET, ["9", "2026120100007", "1", "2026120100008"], World(tickets={"2026120100008": "已办结"})
    )
    assert "ticket 2026120100007: not found" in run.events
    assert "ticket_not_found" in played(run)
    assert run.decision.path == (
        "greeting",
        "ticket_lookup",
        "ticket_missing",
        "ticket_more",
        "ticket_lookup",
        "ticket_more",
        "general",
    )


# --- editing the shipped flow ---------------------------------------------------------------


def errors_of(data: object, catalogue: FlowCatalogue = CATALOGUE) -> list[FlowError]:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow(data, catalogue)
    return caught.value.errors


def test_the_shipped_flow_needs_its_queue_and_110_configured(flow_data: dict) -> None:
    errors = errors_of(flow_data, FlowCatalogue(queues=("other",), targets=("119",)))
    assert [e.where for e in errors] == ["nodes.keep_place.queue", "nodes.general.queue", "nodes.police.target"]


def test_a_dangling_reference_names_node_and_field(flow_data: dict) -> None:
    flow_data["nodes"]["greeting"]["next"] = "nowhere"
    assert errors_of(flow_data) == [FlowError("nodes.greeting.next", "goes to node 'nowhere', which does not exist")]


def test_missing_prompt_unknown_queue_and_target_are_each_reported(flow_data: dict) -> None:
    flow_data["nodes"]["greeting"]["prompt"] = "welcome"
    flow_data["nodes"]["general"]["queue"] = "no-such-queue"
    flow_data["nodes"]["police"]["target"] = "999"
    errors = {e.where: e.problem for e in errors_of(flow_data)}
    assert errors["nodes.greeting.prompt"] == "prompt 'welcome' is not defined under prompts"
    assert errors["nodes.general.queue"].startswith("queue 'no-such-queue' is not configured; known: hotline-general")
    assert errors["nodes.police.target"] == "target '999' is not configured; known: 110, 119, 120"


def test_a_speech_message_needs_a_defined_prompt_and_both_exits(flow_data: dict) -> None:
    flow_data["nodes"]["leave_message"] = {
        "type": "speech_message",
        "prompt": "nope",
        "next": "message_thanks",
        "failed": "gone",
    }
    errors = [str(e) for e in errors_of(flow_data)]
    assert "nodes.leave_message.prompt: prompt 'nope' is not defined under prompts" in errors
    assert "nodes.leave_message.failed: goes to node 'gone', which does not exist" in errors


def test_a_loop_without_caller_input_is_rejected(flow_data: dict) -> None:
    flow_data["nodes"]["emergency_notice"]["next"] = "greeting"
    (error,) = errors_of(flow_data)
    assert error.where == "nodes.greeting"
    assert error.problem.startswith("loop greeting -> emergency_notice -> greeting repeats without the caller")


def test_shape_errors_name_the_node_and_field(flow_data: dict) -> None:
    flow_data["nodes"]["general"]["priority"] = 500
    flow_data["nodes"]["greeting"]["keys"] = {"A": "police"}
    flow_data["nodes"]["refuse"]["type"] = "explode"
    errors = {e.where: e.problem for e in errors_of(flow_data)}
    assert errors["nodes.general.priority"] == "Input should be less than or equal to 99"
    assert "nodes.greeting.keys.A" in errors
    assert errors["nodes.refuse"].startswith("unknown node type; use one of: play, menu")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("nodes: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidFlow) as caught:
        load_flow(path, CATALOGUE)
    (error,) = caught.value.errors
    assert error.where == str(path)
    assert error.problem.startswith("not valid YAML:")
