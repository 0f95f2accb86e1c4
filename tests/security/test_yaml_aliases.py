"""Issue 20 item 7: a YAML alias bomb. Two drafts of about 570 bytes with nested anchors make
GET /api/v1/admin/ivr/diff compare hundreds of millions of nodes (seconds of CPU per request, holding
up every other request). Flows must refuse anchors and aliases (domain/plain_yaml.py already does for
the calendar), and the diff must answer such drafts at once, without expanding them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from ivr.validation import FlowCatalogue, InvalidFlow, parse_flow_text
from services.ivr_versions import IvrAdmin
from tests.conftest import Installer

DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")
CATALOGUE = FlowCatalogue(("hotline-general", "hotline-business", "hotline-leaders"), ("110", "119", "120"))


def alias_bomb(note: str, levels: int = 9, width: int = 9, leaf: str = "lol") -> str:
    """`width` ** `levels` leaves (387 million) from about 570 bytes."""
    lines = [
        "version: 1",
        "language: zh",
        "start: l0",
        "prompts: {}",
        "nodes:",
        f"  l0: &l0 [{', '.join([leaf] * width)}]",
    ]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"# {note}"]) + "\n"


def test_the_diff_does_not_expand_aliases(
    make_api: Callable[..., TestClient], sessions, installer: Installer, login: Callable[..., dict[str, str]]
) -> None:
    """Two bombs whose leaves differ: expanded, every node differs (and comparing them walks up to 387 million
    leaves, seconds per request on the event loop); read as flows are read, neither is compared at all."""
    api = make_api(ivr=IvrAdmin(sessions, lambda source: parse_flow_text(source, CATALOGUE), installer))
    admin = login("admin", client=api)
    numbers = []
    for leaf in ("lol", "lul"):
        source = alias_bomb(leaf, leaf=leaf)
        assert len(source.encode()) < 600
        drafted = api.post("/api/v1/admin/ivr/versions", json={"source": source}, headers=admin)
        assert drafted.status_code == 201, drafted.text  # kept as a draft (invalid), as any flow is
        numbers.append(drafted.json()["number"])

    reply = api.get(f"/api/v1/admin/ivr/diff?from_version={numbers[0]}&to_version={numbers[1]}", headers=admin)

    assert reply.status_code == 200, reply.text[:300]
    diff = reply.json()
    assert "+  l0: &l0 [lul" in diff["unified"]  # the text diff shows the change
    assert (diff["added"], diff["removed"], diff["changed"]) == ([], [], [])  # the aliased nodes were not compared


def test_the_flow_parser_refuses_anchors_and_aliases() -> None:
    keys = '    keys: {"0": police, "9": ticket_lookup}\n'
    assert DEFAULT.count(keys) >= 2
    first = DEFAULT.index(keys)
    second = DEFAULT.index(keys, first + len(keys))
    aliased = (
        DEFAULT[:first]
        + '    keys: &keys {"0": police, "9": ticket_lookup}\n'
        + DEFAULT[first + len(keys) : second]
        + "    keys: *keys\n"
        + DEFAULT[second + len(keys) :]
    )
    assert yaml.safe_load(aliased) == yaml.safe_load(DEFAULT)  # the same flow, written with an alias
    parse_flow_text(DEFAULT, CATALOGUE)

    with pytest.raises(InvalidFlow) as refused:
        parse_flow_text(aliased, CATALOGUE)

    assert any("alias" in e.problem or "anchor" in e.problem for e in refused.value.errors), refused.value.errors
