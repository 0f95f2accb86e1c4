"""Flow validation: shape errors (pydantic) and meaning errors (ivr.validation) each name the node
and field at fault and say what is wrong, all of them at once."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import ValidationError

from ivr.flow import AudioPrompt, CallbackOfferNode, ConditionNode, Flow, MenuNode, PlayNode
from ivr.validation import FlowCatalogue, FlowError, InvalidFlow, parse_flow, parse_flow_text

CATALOGUE = FlowCatalogue(queues=("general", "vip"), targets=("110", "120"), audio=("welcome_rec",))
BASE = {
    "version": 1,
    "start": "welcome",
    "prompts": {"welcome": "您好，这里是12345热线。", "choose": "咨询请按一，紧急情况请按二。", "wrong": "按键无效。"},
    "nodes": {
        "welcome": {"type": "play", "prompt": "welcome", "next": "choose"},
        "choose": {
            "type": "menu",
            "prompt": "choose",
            "options": {"1": "general", "2": "police"},
            "invalid_prompt": "wrong",
            "fallback": "general",
        },
        "general": {"type": "queue", "queue": "general"},
        "police": {"type": "transfer", "target": "110"},
    },
}


@pytest.fixture
def data() -> dict:
    return copy.deepcopy(BASE)


def errors_of(flow: object, catalogue: FlowCatalogue = CATALOGUE) -> list[FlowError]:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow(flow, catalogue)
    return caught.value.errors


def only_error(flow: object, catalogue: FlowCatalogue = CATALOGUE) -> FlowError:
    errors = errors_of(flow, catalogue)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_base_flow_is_valid(data: dict) -> None:
    flow = parse_flow(data, CATALOGUE)
    assert (flow.start, list(flow.nodes)) == ("welcome", ["welcome", "choose", "general", "police"])


def test_invalid_flow_lists_every_error_in_its_message() -> None:
    error = InvalidFlow([FlowError("nodes.a.next", "goes nowhere"), FlowError("start", "missing")])
    assert str(error) == "invalid IVR flow:\n  - nodes.a.next: goes nowhere\n  - start: missing"


# --- shape ----------------------------------------------------------------------------------


def test_an_unknown_node_type_is_named(data: dict) -> None:
    data["nodes"]["police"]["type"] = "explode"
    error = only_error(data)
    assert error.where == "nodes.police"
    assert error.problem.startswith("unknown node type; use one of: play, menu, collect_digits")


def test_a_node_without_a_type_is_named(data: dict) -> None:
    del data["nodes"]["police"]["type"]
    error = only_error(data)
    assert error.where == "nodes.police"
    assert error.problem.startswith("every node needs a type: one of play, menu")


@pytest.mark.parametrize("node_id", ["Bad", "9lives", "has-dash", "with space", "n" * 41])
def test_a_node_id_must_match_the_pattern(data: dict, node_id: str) -> None:
    data["nodes"][node_id] = {"type": "hangup"}
    error = only_error(data)
    assert error.where.startswith(f"nodes.{node_id}")
    assert "should match pattern" in error.problem


def test_a_bad_node_id_as_a_target_is_named_where_it_is_used(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "Choose"
    error = only_error(data)
    assert error.where == "nodes.welcome.next"
    assert "should match pattern" in error.problem


def test_a_missing_field_is_named(data: dict) -> None:
    del data["nodes"]["choose"]["fallback"]
    assert only_error(data) == FlowError("nodes.choose.fallback", "Field required")


def test_an_unknown_field_is_named(data: dict) -> None:
    data["nodes"]["welcome"]["colour"] = "red"
    assert only_error(data) == FlowError("nodes.welcome.colour", "Extra inputs are not permitted")


def test_a_condition_needs_its_else(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "check"
    data["nodes"]["check"] = {"type": "condition", "test": "barred_caller", "then": "police"}
    assert only_error(data) == FlowError("nodes.check.else", "Field required")


@pytest.mark.parametrize(
    "node",
    [
        {"type": "menu", "prompt": "choose", "options": {"1": "general"}, "fallback": "general"},
        {"type": "collect_digits", "prompt": "choose", "into": "phone", "next": "general", "failed": "general"},
        {"type": "ticket_status", "prompt": "choose", "next": "general", "not_found": "general", "failed": "general"},
    ],
)
def test_retries_above_5_are_rejected(data: dict, node: dict) -> None:
    data["nodes"]["choose"] = {**node, "retries": 5}
    parse_flow(data, CATALOGUE)
    data["nodes"]["choose"]["retries"] = 6
    assert only_error(data) == FlowError("nodes.choose.retries", "Input should be less than or equal to 5")


@pytest.mark.parametrize(
    "field, value, where",
    [
        ("timeout_seconds", 31, "nodes.choose.timeout_seconds"),
        ("timeout_seconds", 0, "nodes.choose.timeout_seconds"),
        ("options", {}, "nodes.choose.options"),
        ("options", {"12": "general"}, "nodes.choose.options.12"),
        ("languages", {"1": "Cantonese"}, "nodes.choose.languages.1"),
    ],
)
def test_menu_fields_out_of_range_are_named(data: dict, field: str, value: object, where: str) -> None:
    data["nodes"]["choose"][field] = value
    assert only_error(data).where == where


@pytest.mark.parametrize(
    "between, where",
    [
        (["24:00", "06:00"], "nodes.check.between.0"),
        (["22:00", "6:00"], "nodes.check.between.1"),
        (["22:00"], "nodes.check.between.1"),
    ],
)
def test_clock_times_must_be_hh_mm(data: dict, between: list[str], where: str) -> None:
    data["nodes"]["welcome"]["next"] = "check"
    data["nodes"]["check"] = {
        "type": "condition",
        "test": "time_of_day",
        "between": between,
        "then": "choose",
        "else": "general",
    }
    assert only_error(data).where == where


def test_only_flow_version_1_is_known(data: dict) -> None:
    data["version"] = 2
    assert only_error(data).where == "version"


def test_several_shape_errors_are_reported_at_once(data: dict) -> None:
    data["nodes"]["general"]["priority"] = 100
    data["nodes"]["choose"]["retries"] = 9
    data["nodes"]["police"]["type"] = "explode"
    data["nodes"]["welcome"]["keys"] = {"A": "police"}
    wheres = [e.where for e in errors_of(data)]
    assert wheres == ["nodes.welcome.keys.A", "nodes.choose.retries", "nodes.general.priority", "nodes.police"]


@pytest.mark.parametrize(
    "node_id, node, where",
    [
        ("queue", {"type": "queue", "queue": "general", "priority": 500}, "nodes.queue.priority"),
        ("general", {"type": "queue"}, "nodes.general.queue"),
        (
            "offer",
            {
                "type": "callback_offer",
                "prompt": "choose",
                "accepted": "police",
                "declined": "police",
                "failed": "police",
            },
            "nodes.offer.queue",
        ),
    ],
)
def test_a_shape_error_keeps_node_ids_and_fields_named_like_node_types(
    data: dict, node_id: str, node: dict, where: str
) -> None:
    data["nodes"]["welcome"]["next"] = node_id
    data["nodes"][node_id] = node
    assert only_error(data).where == where


@pytest.mark.parametrize(
    "prompt, where",
    [("", "prompts.welcome"), ("长" * 501, "prompts.welcome"), ({"audio": "Bad-Name"}, "prompts.welcome.audio")],
)
def test_a_bad_prompt_is_named_by_its_name_only(data: dict, prompt: object, where: str) -> None:
    data["prompts"]["welcome"] = prompt
    assert {e.where for e in errors_of(data)} == {where}


# --- YAML -----------------------------------------------------------------------------------


def test_yaml_syntax_errors_are_one_clear_error() -> None:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow_text("version: 1\nnodes: [unclosed\n", CATALOGUE, "flows/new.yaml")
    (error,) = caught.value.errors
    assert error.where == "flows/new.yaml"
    assert error.problem.startswith("not valid YAML:")
    assert "line 3" in error.problem


@pytest.mark.parametrize("text", ["", "- a list\n- of things\n", "just words"])
def test_yaml_that_is_not_a_mapping_is_rejected(text: str) -> None:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow_text(text, CATALOGUE)
    assert [e.where for e in caught.value.errors] == ["flow"]
    assert "valid dictionary" in caught.value.errors[0].problem


def test_a_mapping_without_the_required_sections_names_each() -> None:
    with pytest.raises(InvalidFlow) as caught:
        parse_flow_text("version: 1\n", CATALOGUE)
    assert [(e.where, e.problem) for e in caught.value.errors] == [
        ("start", "Field required"),
        ("prompts", "Field required"),
        ("nodes", "Field required"),
    ]


def test_valid_yaml_text_parses_to_the_same_flow(data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    assert parse_flow_text(text, CATALOGUE) == parse_flow(data, CATALOGUE)


# --- references -----------------------------------------------------------------------------


def test_the_start_node_must_exist(data: dict) -> None:
    data["start"] = "nowhere"
    assert only_error(data) == FlowError(
        "start", "node 'nowhere' does not exist; name one of: welcome, choose, general, police"
    )


def test_a_next_node_must_exist(data: dict) -> None:
    data["nodes"]["choose"]["fallback"] = "nowhere"
    assert only_error(data) == FlowError("nodes.choose.fallback", "goes to node 'nowhere', which does not exist")


def test_a_node_whose_only_way_on_is_missing_is_also_a_dead_end(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "nowhere"
    assert errors_of(data) == [
        FlowError("nodes.welcome.next", "goes to node 'nowhere', which does not exist"),
        FlowError("nodes.welcome", "no path from here reaches a queue, transfer or hangup: add one"),
    ]


def test_a_menu_option_and_a_play_key_must_exist(data: dict) -> None:
    data["nodes"]["choose"]["options"]["3"] = "gone"
    data["nodes"]["welcome"]["keys"] = {"0": "missing"}
    assert [str(e) for e in errors_of(data)] == [
        "nodes.welcome.keys.0: goes to node 'missing', which does not exist",
        "nodes.choose.options.3: goes to node 'gone', which does not exist",
    ]


@pytest.mark.parametrize("field", ["prompt", "invalid_prompt"])
def test_a_prompt_must_be_defined(data: dict, field: str) -> None:
    data["nodes"]["choose"][field] = "hello"
    assert only_error(data) == FlowError(f"nodes.choose.{field}", "prompt 'hello' is not defined under prompts")


def test_an_unknown_queue_is_named_with_the_known_ones(data: dict) -> None:
    data["nodes"]["general"]["queue"] = "nope"
    assert only_error(data) == FlowError("nodes.general.queue", "queue 'nope' is not configured; known: general, vip")


def test_a_callback_offers_queue_must_be_configured(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "offer"
    data["nodes"]["offer"] = {
        "type": "callback_offer",
        "prompt": "choose",
        "queue": "elsewhere",
        "accepted": "police",
        "declined": "choose",
        "failed": "choose",
    }
    error = only_error(data)
    assert error.where == "nodes.offer.queue"
    assert error.problem.startswith("queue 'elsewhere' is not configured")


def test_an_unknown_transfer_target_is_named_with_the_known_ones(data: dict) -> None:
    data["nodes"]["police"]["target"] = "999"
    assert only_error(data) == FlowError("nodes.police.target", "target '999' is not configured; known: 110, 120")


# --- prompts --------------------------------------------------------------------------------


def test_an_audio_prompt_needs_an_uploaded_recording(data: dict) -> None:
    data["prompts"]["welcome"] = {"audio": "welcome_rec"}
    flow = parse_flow(data, CATALOGUE)  # uploaded
    assert flow.prompts["welcome"] == AudioPrompt(audio="welcome_rec")
    error = only_error(data, FlowCatalogue(CATALOGUE.queues, CATALOGUE.targets, audio=("other_rec",)))
    assert error.where == "prompts.welcome.audio"
    assert error.problem.startswith(
        "no uploaded recording 'welcome_rec': upload it (PUT /api/v1/admin/ivr/audio/welcome_rec)"
    )


@pytest.mark.parametrize("text", ["。。。", "……！", "？", "   ", "——", "您好\x07", "请按\x1b一"])
def test_a_prompt_text_that_cannot_be_spoken_is_rejected(data: dict, text: str) -> None:
    data["prompts"]["wrong"] = text
    assert only_error(data) == FlowError("prompts.wrong", "cannot be spoken: write words, without control characters")


@pytest.mark.parametrize("text", ["12345", "OK", "请按1。", "您好！"])
def test_short_prompt_texts_with_words_or_digits_are_speakable(data: dict, text: str) -> None:
    data["prompts"]["wrong"] = text
    assert parse_flow(data, CATALOGUE).prompts["wrong"] == text


# --- node fields that belong together -------------------------------------------------------


def with_condition(data: dict, **condition: object) -> dict:
    data["nodes"]["welcome"]["next"] = "check"
    data["nodes"]["check"] = {"type": "condition", **condition, "then": "choose", "else": "general"}
    return data


@pytest.mark.parametrize("test, field", [("time_of_day", "between"), ("language", "language")])
def test_a_condition_test_needs_its_field(data: dict, test: str, field: str) -> None:
    error = only_error(with_condition(data, test=test))
    assert error.where == f"nodes.check.{field}"
    assert error.problem.startswith(f"test {test} needs {field}, e.g. {field}: ")


@pytest.mark.parametrize(
    "test, field, value, used_by",
    [
        ("barred_caller", "between", ["08:00", "20:00"], "time_of_day"),
        ("holiday", "language", "yue", "language"),
        ("time_of_day", "closed_dates", ["2026-10-08"], "holiday"),
    ],
)
def test_a_condition_field_on_the_wrong_test_is_named(
    data: dict, test: str, field: str, value: object, used_by: str
) -> None:
    condition: dict = {"test": test, field: value}
    if test == "time_of_day":
        condition["between"] = ["08:00", "20:00"]
    error = only_error(with_condition(data, **condition))
    assert error == FlowError(f"nodes.check.{field}", f"only used by test {used_by}, not {test}: remove it")


@pytest.mark.parametrize(
    "condition",
    [
        {"test": "time_of_day", "between": ["22:00", "06:00"]},
        {"test": "holiday", "closed_dates": ["2026-10-08", "2026-12-31"]},
        {"test": "language", "language": "yue"},
        {"test": "repeat_caller", "repeat_calls": 5, "repeat_days": 30},
        {"test": "long_wait", "wait_seconds": 0},
    ],
)
def test_well_formed_conditions_are_valid(data: dict, condition: dict) -> None:
    check = parse_flow(with_condition(data, **condition), CATALOGUE).nodes["check"]
    assert isinstance(check, ConditionNode) and check.test == condition["test"]


def test_a_menu_language_key_must_be_an_option(data: dict) -> None:
    data["nodes"]["choose"]["languages"] = {"1": "zh", "3": "yue"}
    assert only_error(data) == FlowError("nodes.choose.languages.3", "key 3 is not one of the options: add it there")


def with_collect(data: dict, **fields: object) -> dict:
    data["nodes"]["welcome"]["next"] = "ask"
    data["nodes"]["ask"] = {
        "type": "collect_digits",
        "prompt": "choose",
        "into": "phone",
        **fields,
        "next": "choose",
        "failed": "general",
    }
    return data


def test_min_digits_may_not_exceed_max_digits(data: dict) -> None:
    assert only_error(with_collect(data, min_digits=6, max_digits=4)) == FlowError(
        "nodes.ask.min_digits", "6 is more than max_digits 4"
    )
    parse_flow(with_collect(copy.deepcopy(BASE), min_digits=4, max_digits=4), CATALOGUE)


def offer(number_from: str) -> dict:
    return {
        "type": "callback_offer",
        "prompt": "choose",
        "queue": "vip",
        "number_from": number_from,
        "accepted": "police",
        "declined": "general",
        "failed": "general",
    }


def test_a_callback_number_from_needs_a_collect_digits_node_storing_it(data: dict) -> None:
    data["nodes"]["choose"]["options"]["3"] = "offer"
    data["nodes"]["offer"] = offer("phone")
    error = only_error(data)
    assert error.where == "nodes.offer.number_from"
    assert error.problem.startswith("no collect_digits node stores 'phone': add one (into: phone)")


def test_a_callback_number_from_collected_digits_is_valid(data: dict) -> None:
    with_collect(data)
    data["nodes"]["choose"]["options"]["3"] = "offer"
    data["nodes"]["offer"] = offer("phone")
    offered = parse_flow(data, CATALOGUE).nodes["offer"]
    assert isinstance(offered, CallbackOfferNode) and offered.number_from == "phone"


# --- loops and dead ends --------------------------------------------------------------------


def test_a_loop_of_plays_without_input_is_an_error(data: dict) -> None:
    data["prompts"]["notice"] = "紧急情况请按零。"
    data["nodes"]["welcome"]["next"] = "notice"
    data["nodes"]["notice"] = {"type": "play", "prompt": "notice", "keys": {"0": "police"}, "next": "again"}
    data["nodes"]["again"] = {"type": "play", "prompt": "welcome", "keys": {"1": "choose"}, "next": "welcome"}
    error = only_error(data)
    assert error.where == "nodes.welcome"
    assert error.problem.startswith("loop welcome -> notice -> again -> welcome repeats without the caller pressing")


def test_a_loop_through_a_condition_is_an_error(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "check"
    data["nodes"]["check"] = {"type": "condition", "test": "long_wait", "then": "welcome", "else": "choose"}
    error = only_error(data)
    assert (error.where, error.problem.split(" repeats")[0]) == ("nodes.welcome", "loop welcome -> check -> welcome")


def test_a_loop_through_a_menu_option_is_fine(data: dict) -> None:
    data["nodes"]["choose"]["options"]["9"] = "welcome"
    choose = parse_flow(data, CATALOGUE).nodes["choose"]
    assert isinstance(choose, MenuNode) and choose.options["9"] == "welcome"


@pytest.mark.parametrize(
    "node",
    [
        {"type": "collect_digits", "prompt": "choose", "into": "phone", "next": "ask", "failed": "general"},
        {"type": "ticket_status", "prompt": "choose", "next": "ask", "not_found": "ask", "failed": "general"},
        {"type": "speech_message", "prompt": "choose", "next": "ask", "failed": "general"},
    ],
)
def test_going_round_after_the_caller_keyed_or_spoke_is_fine(data: dict, node: dict) -> None:
    data["nodes"]["welcome"]["next"] = "ask"
    data["nodes"]["ask"] = node
    parse_flow(data, CATALOGUE)


def test_a_menu_whose_fallback_is_itself_is_an_error(data: dict) -> None:
    data["nodes"]["choose"]["fallback"] = "choose"
    error = only_error(data)
    assert error.where == "nodes.choose"
    assert error.problem.startswith("loop choose -> choose repeats")


def test_failed_digits_that_ask_again_for_ever_are_an_error(data: dict) -> None:
    with_collect(data)
    data["nodes"]["ask"]["failed"] = "ask"
    error = only_error(data)
    assert (error.where, error.problem.split(" repeats")[0]) == ("nodes.ask", "loop ask -> ask")


def test_a_menu_that_only_leads_back_into_itself_is_a_dead_end(data: dict) -> None:
    data["nodes"]["choose"]["options"] = {"1": "choose", "2": "welcome"}
    data["nodes"]["choose"]["fallback"] = "choose"
    errors = errors_of(data)
    dead_end = "no path from here reaches a queue, transfer or hangup: add one"
    dead_ends = [e.where for e in errors if e.problem == dead_end]
    assert dead_ends == ["nodes.choose", "nodes.welcome"]
    assert any(e.where == "nodes.choose" and e.problem.startswith("loop choose -> choose") for e in errors)


def test_an_unreachable_dead_end_is_not_reported_as_one(data: dict) -> None:
    data["nodes"]["orphan"] = {"type": "menu", "prompt": "choose", "options": {"1": "orphan"}, "fallback": "nowhere"}
    assert [e.where for e in errors_of(data)] == ["nodes.orphan.fallback"]


def test_several_meaning_errors_are_reported_at_once(data: dict) -> None:
    data["start"] = "nowhere"
    data["prompts"]["wrong"] = "！！"
    data["prompts"]["welcome"] = {"audio": "missing_rec"}
    data["nodes"]["welcome"]["prompt"] = "hello"
    data["nodes"]["choose"]["languages"] = {"5": "yue"}
    data["nodes"]["general"]["queue"] = "nope"
    data["nodes"]["police"]["target"] = "999"
    assert [e.where for e in errors_of(data)] == [
        "start",
        "prompts.welcome.audio",
        "prompts.wrong",
        "nodes.welcome.prompt",
        "nodes.choose.languages.5",
        "nodes.general.queue",
        "nodes.police.target",
    ]


def test_parse_flow_returns_a_frozen_flow(data: dict) -> None:
    flow = parse_flow(data, CATALOGUE)
    welcome = flow.nodes["welcome"]
    assert isinstance(flow, Flow) and isinstance(welcome, PlayNode)
    with pytest.raises(ValidationError, match="frozen"):
        welcome.next = "police"  # type: ignore[misc]  # frozen: the test is that this is refused


def test_a_very_long_chain_of_nodes_is_checked_without_crashing() -> None:
    count = 1200
    nodes: dict = {f"n{i}": {"type": "play", "prompt": "hello", "next": f"n{i + 1}"} for i in range(count)}
    nodes[f"n{count}"] = {"type": "hangup"}
    flow = {"version": 1, "start": "n0", "prompts": {"hello": "您好"}, "nodes": nodes}
    try:
        assert len(parse_flow(flow, CATALOGUE).nodes) == count + 1
    except InvalidFlow as rejected:  # refusing so long a flow, with a reason, would do too
        assert rejected.errors


def test_a_time_range_that_starts_when_it_ends_is_refused(data: dict) -> None:
    data["nodes"]["welcome"]["next"] = "hours"
    data["nodes"]["hours"] = {
        "type": "condition",
        "test": "time_of_day",
        "between": ["08:00", "08:00"],
        "then": "police",
        "else": "police",
    }
    error = only_error(data)
    assert (error.where, "never holds" in error.problem) == ("nodes.hours.between", True)
