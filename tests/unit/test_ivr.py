from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ivr.engine import CallFacts, Decision, Play, VoiceMessage, run_flow
from ivr.validation import InvalidFlow, load_flow, parse_flow

DEFAULT_FLOW = Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml"
QUEUES = ("hotline-general",)
TARGETS = ("110", "119", "120")


@pytest.fixture
def flow_data() -> dict:
    return yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8"))


def drive(flow, facts: CallFacts, keys: dict[str, str], recorded: bool = True) -> tuple[list[str], Decision]:
    """Runs a flow, pressing keys[prompt] while that prompt plays; a voice message is recorded or not."""
    played: list[str] = []
    steps = run_flow(flow, facts)
    step = next(steps)
    try:
        while True:
            played.append(step.prompt)
            if isinstance(step, VoiceMessage):
                step = steps.send(recorded)
            else:
                assert isinstance(step, Play)
                step = steps.send(keys.get(step.prompt, ""))
    except StopIteration as done:
        return played, done.value


def test_default_flow_queues_a_caller_after_greeting_and_emergency_notice() -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    played, decision = drive(flow, CallFacts("13800138000", barred=False), {})
    assert played == ["greeting", "emergency_notice"]
    assert (decision.action, decision.queue, decision.priority) == ("queue", "hotline-general", 0)
    assert decision.path == ("greeting", "emergency_notice", "barred_check", "wait_check", "general")


LONG_WAIT = CallFacts("13800138000", barred=False, longest_wait_seconds=120)


def test_a_long_wait_offers_a_voice_message_that_ends_the_call_once_recorded() -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    played, decision = drive(flow, LONG_WAIT, {"long_wait_offer": "1"})
    assert played == ["greeting", "emergency_notice", "long_wait_offer", "message_prompt", "message_thanks"]
    assert decision.action == "hangup"
    assert "leave_message" in decision.path


def test_a_voice_message_that_could_not_be_recorded_queues_the_caller() -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    played, decision = drive(flow, LONG_WAIT, {"long_wait_offer": "1"}, recorded=False)
    assert played[-1] == "message_prompt"
    assert (decision.action, decision.queue) == ("queue", "hotline-general")


@pytest.mark.parametrize("wait, offered", [(119.9, False), (120, True)])
def test_the_offer_depends_on_the_longest_wait(wait: float, offered: bool) -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    played, decision = drive(flow, CallFacts("13800138000", barred=False, longest_wait_seconds=wait), {})
    assert ("long_wait_offer" in played) is offered
    assert decision.action == "queue"


@pytest.mark.parametrize("prompt", ["greeting", "emergency_notice"])
def test_key_0_during_either_prompt_goes_to_110(prompt: str) -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    _, decision = drive(flow, CallFacts("13800138000", barred=False), {prompt: "0"})
    assert (decision.action, decision.target) == ("transfer", "110")
    assert decision.path[-1] == "police"


def test_other_keys_are_ignored() -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    _, decision = drive(flow, CallFacts("13800138000", barred=False), {"greeting": "5"})
    assert decision.action == "queue"


def test_barred_caller_hears_notice_then_is_refused() -> None:
    flow = load_flow(DEFAULT_FLOW, QUEUES, TARGETS)
    played, decision = drive(flow, CallFacts("13800138000", barred=True), {})
    assert played == ["greeting", "emergency_notice", "barred_notice"]
    assert decision.action == "hangup"


def test_speech_message_needs_a_prompt_and_both_exits(flow_data: dict) -> None:
    flow_data["nodes"]["leave_message"] = {"type": "speech_message", "prompt": "nope", "next": "message_thanks", "failed": "gone"}
    errors = errors_of(flow_data)
    assert "nodes.leave_message.prompt: prompt 'nope' is not defined under prompts" in errors
    assert "nodes.leave_message.failed: goes to node 'gone', which does not exist" in errors


def errors_of(data: dict) -> list[str]:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow(data, QUEUES, TARGETS)
    return [str(e) for e in caught.value.errors]


def test_dangling_reference_names_node_and_field(flow_data: dict) -> None:
    flow_data["nodes"]["greeting"]["next"] = "nowhere"
    assert errors_of(flow_data) == ["nodes.greeting.next: goes to node 'nowhere', which does not exist"]


def test_missing_prompt_unknown_queue_and_target_are_each_reported(flow_data: dict) -> None:
    flow_data["nodes"]["greeting"]["prompt"] = "welcome"
    flow_data["nodes"]["general"]["queue"] = "no-such-queue"
    flow_data["nodes"]["police"]["target"] = "999"
    errors = errors_of(flow_data)
    assert "nodes.greeting.prompt: prompt 'welcome' is not defined under prompts" in errors
    assert any(e.startswith("nodes.general.queue: queue 'no-such-queue' is not configured") for e in errors)
    assert any(e.startswith("nodes.police.target: target '999' is not configured") for e in errors)


def test_loop_without_an_end_is_rejected(flow_data: dict) -> None:
    flow_data["nodes"]["emergency_notice"]["next"] = "greeting"
    assert errors_of(flow_data) == [
        "nodes.greeting: loop greeting -> emergency_notice -> greeting never reaches a queue, transfer or hangup"
    ]


def test_shape_errors_name_the_field(flow_data: dict) -> None:
    bad = copy.deepcopy(flow_data)
    bad["nodes"]["general"]["priority"] = 500
    bad["nodes"]["greeting"]["keys"] = {"A": "police"}
    bad["nodes"]["refuse"]["type"] = "explode"
    errors = errors_of(bad)
    assert any(e.startswith("nodes.general.queue.priority:") for e in errors), errors
    assert any(e.startswith("nodes.greeting.play.keys.A") for e in errors), errors
    assert any(e.startswith("nodes.refuse:") for e in errors), errors


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("nodes: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidFlow, match="not valid YAML"):
        load_flow(path, QUEUES, TARGETS)
