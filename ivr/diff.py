"""What changed between two IVR flow sources: the text, and which nodes and prompts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from domain.plain_yaml import load_plain_yaml


@dataclass(frozen=True)
class FlowDiff:
    unified: str  # unified diff of the YAML text; empty when the texts are equal
    added: tuple[str, ...]  # node ids only in the new flow
    removed: tuple[str, ...]  # node ids only in the old flow
    changed: tuple[str, ...]  # node ids in both, defined differently
    prompts_changed: tuple[str, ...]  # prompt names added, removed or reworded


def _section(data: Any, key: str) -> dict[Any, Any] | None:
    section = data.get(key) if isinstance(data, dict) else None
    return section if isinstance(section, dict) else None


def _load(source: str) -> Any:
    """A source's data, read as flows are (no aliases: a few hundred bytes could expand to millions of nodes)."""
    try:
        return load_plain_yaml(source)
    except yaml.YAMLError:
        return None


def _nodes_compared(old: dict[Any, Any] | None, new: dict[Any, Any] | None) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, changed) node ids, in the order they are written; none when a side has no nodes mapping."""
    if old is None or new is None:
        return [], [], []
    added = [str(k) for k in new if k not in old]
    removed = [str(k) for k in old if k not in new]
    changed = [str(k) for k in new if k in old and old[k] != new[k]]
    return added, removed, changed


def flow_diff(old_source: str, new_source: str, old_label: str, new_label: str) -> FlowDiff:
    """Node and prompt lists are compared only where both sources parse and have that section."""
    lines = difflib.unified_diff(old_source.splitlines(), new_source.splitlines(), old_label, new_label, lineterm="")
    unified = "".join(f"{line}\n" for line in lines)
    old, new = _load(old_source), _load(new_source)
    added, removed, changed = _nodes_compared(_section(old, "nodes"), _section(new, "nodes"))
    old_prompts, new_prompts = _section(old, "prompts"), _section(new, "prompts")
    prompts_changed: list[str] = []
    if old_prompts is not None and new_prompts is not None:
        prompts_changed = [str(k) for k in new_prompts if k not in old_prompts or old_prompts[k] != new_prompts[k]]
        prompts_changed += [str(k) for k in old_prompts if k not in new_prompts]
    return FlowDiff(unified, tuple(added), tuple(removed), tuple(changed), tuple(prompts_changed))
