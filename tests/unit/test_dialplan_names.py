"""domain/dialplan_names.py and the shipped dialplan agree: every context, channel variable and
UserEvent named in Python exists in asterisk_conf/extensions.conf, and back; and product code names
them only through that module."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from domain.dialplan_names import AstDbFamily, ConfUser, Context, UserEvent, Var

ROOT = Path(__file__).resolve().parents[2]
DIALPLAN = (ROOT / "asterisk_conf" / "extensions.conf").read_text(encoding="utf-8")
CONFBRIDGE = (ROOT / "asterisk_conf" / "confbridge.conf").read_text(encoding="utf-8")
VARIABLE = r"\b(?:HOTLINE|CTI|CB|SIM|BARRED)_[A-Z_]+\b"


def _code(text: str) -> str:
    return "\n".join(line.split(";", 1)[0] for line in text.splitlines())  # without comments


def test_the_contexts_are_the_dialplans() -> None:
    contexts = set(re.findall(r"^\[([\w-]+)\]", _code(DIALPLAN), re.M)) - {"globals"}
    assert contexts == {str(c) for c in Context}


def test_the_channel_variables_are_the_dialplans() -> None:
    assert set(re.findall(VARIABLE, _code(DIALPLAN))) == {str(v) for v in Var}


def test_the_user_events_are_the_dialplans() -> None:
    assert set(re.findall(r"UserEvent\((\w+)", _code(DIALPLAN))) == {str(e) for e in UserEvent}


def test_the_astdb_families_are_the_dialplans() -> None:
    assert set(re.findall(r"\bDB(?:_EXISTS|_DELETE)?\(([\w-]+)/", _code(DIALPLAN))) == {str(f) for f in AstDbFamily}


def test_the_conference_user_profiles_are_confbridges() -> None:
    profiles = set(re.findall(r"^\[([\w-]+)\]\ntype\s*=\s*user", _code(CONFBRIDGE), re.M))
    assert profiles == {str(u) for u in ConfUser}


def test_product_code_names_them_only_through_the_module() -> None:
    files = subprocess.run(
        ["git", "ls-files", "*.py", ":!tests", ":!bench", ":!domain/dialplan_names.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    names = {str(n) for n in (*Context, *Var, *UserEvent, *ConfUser, *AstDbFamily)} - {
        "hotline",
        "agents",
        "departments",
    }
    settings_names = {f"HOTLINE_{n.upper()}" for n in ("agi_url", "run_dir")}  # environment variables too
    found = []
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        for literal in re.findall(r"[\"']([\w-]+)[\"']", text):
            if literal in names and literal not in settings_names:
                found.append(f"{name}: {literal}")
    assert found == []
