from __future__ import annotations

from pathlib import Path

from ivr.diff import flow_diff

DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")

OLD = """version: 1
start: greeting
prompts:
  greeting: 您好
  bye: 再见
nodes:
  greeting: {type: play, prompt: greeting, next: general}
  general: {type: queue, queue: hotline-general}
  refuse: {type: hangup}
"""

NEW = """version: 1
start: greeting
prompts:
  greeting: 您好，欢迎致电
  menu: 请按键
nodes:
  greeting: {type: play, prompt: greeting, next: general}
  general: {type: queue, queue: hotline-business}
  police: {type: transfer, target: "110"}
"""


def test_nodes_and_prompts_added_removed_and_changed() -> None:
    diff = flow_diff(OLD, NEW, "version 3", "version 4")
    assert (diff.added, diff.removed, diff.changed) == (("police",), ("refuse",), ("general",))
    assert diff.prompts_changed == ("greeting", "menu", "bye")


def test_the_text_diff_is_unified_and_labelled() -> None:
    unified = flow_diff(OLD, NEW, "version 3", "version 4").unified
    assert unified.splitlines()[:3] == ["--- version 3", "+++ version 4", "@@ -1,9 +1,9 @@"]
    lines = unified.splitlines()
    assert "-  general: {type: queue, queue: hotline-general}" in lines
    assert "+  general: {type: queue, queue: hotline-business}" in lines and " start: greeting" in lines
    assert unified.endswith("\n")


def test_a_last_line_without_newline_is_its_own_line() -> None:
    assert flow_diff("a: 1\nb: 2", "a: 1\nb: 3", "old", "new").unified.splitlines()[-2:] == ["-b: 2", "+b: 3"]


def test_equal_sources_give_an_empty_diff() -> None:
    diff = flow_diff(DEFAULT, DEFAULT, "version 1", "version 2")
    assert (diff.unified, diff.added, diff.removed, diff.changed, diff.prompts_changed) == ("", (), (), (), ())


def test_formatting_alone_changes_no_node() -> None:
    block = "  greeting:\n    type: play\n    prompt: greeting  # 开头\n    next: general\n"
    reformatted = OLD.replace("  greeting: {type: play, prompt: greeting, next: general}\n", block)
    diff = flow_diff(OLD, reformatted, "a", "b")
    assert diff.unified != "" and (diff.added, diff.removed, diff.changed, diff.prompts_changed) == ((), (), (), ())


def test_a_source_that_does_not_parse_still_gives_the_text_diff() -> None:
    broken = "nodes: [unclosed\n"
    for old, new in ((DEFAULT, broken), (broken, DEFAULT), ("- a list\n", DEFAULT), ("nodes: 3\n", DEFAULT)):
        diff = flow_diff(old, new, "old", "new")
        assert diff.unified.startswith("--- old\n+++ new\n")
        assert (diff.added, diff.removed, diff.changed, diff.prompts_changed) == ((), (), (), ())
