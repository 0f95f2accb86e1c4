"""`hotline ivr publish|rollback|diff|versions|audit` over a migrated temporary SQLite database."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.ivr_cli import register
from ivr.validation import FlowCatalogue, parse_flow_text
from services.ivr_versions import IvrAdmin
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade_database

DEFAULT = (Path(__file__).resolve().parents[2] / "ivr" / "flows" / "default.yaml").read_text(encoding="utf-8")
HOLIDAY = DEFAULT.replace("您好，这里是一二三四五政务服务便民热线。", "您好，节日期间热线照常服务。")
CATALOGUE = FlowCatalogue(("hotline-general", "hotline-business", "hotline-leaders"), ("110", "119", "120"))


@pytest.fixture
def installed() -> list[str]:
    return []


@pytest.fixture
def admin(tmp_path: Path, installed: list[str]) -> Iterator[IvrAdmin]:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    yield IvrAdmin(make_session_factory(engine), lambda source: parse_flow_text(source, CATALOGUE), installed.append)
    engine.dispose()


@pytest.fixture
def hotline(admin: IvrAdmin):
    """Runs `hotline ivr ARGS…` and returns its exit code."""
    parser = argparse.ArgumentParser(prog="hotline")
    ivr = (
        parser.add_subparsers(dest="command", required=True)
        .add_parser("ivr")
        .add_subparsers(dest="ivr_command", required=True)
    )
    register(ivr, lambda: admin)

    def run(*argv: str) -> int:
        args = parser.parse_args(["ivr", *argv])
        return args.func(args)

    return run


def flow_file(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return str(path)


def test_publish_a_file_and_list_it(hotline, admin: IvrAdmin, installed: list[str], tmp_path: Path, capsys) -> None:
    assert hotline("publish", flow_file(tmp_path, "default.yaml", DEFAULT), "--by", "admin-li", "--note", "上线") == 0
    assert "version 1 published" in capsys.readouterr().out
    live = admin.live()
    assert live is not None
    assert (live.number, live.source, live.created_by, live.note) == (1, DEFAULT, "admin-li", "上线")
    assert installed == [DEFAULT]

    assert hotline("versions") == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split()[:2] == ["1", "live"] and "admin-li" in line and line.endswith("上线")


def test_an_invalid_file_prints_each_error_and_is_not_published(
    hotline, admin: IvrAdmin, installed: list[str], tmp_path: Path, capsys
) -> None:
    source = DEFAULT.replace("prompt: barred_notice", "prompt: barred_notise").replace('target: "110"', 'target: "999"')
    assert hotline("publish", flow_file(tmp_path, "bad.yaml", source), "--by", "admin-li") == 1
    err = capsys.readouterr().err.splitlines()
    assert "nodes.barred.prompt: prompt 'barred_notise' is not defined under prompts" in err
    assert any(line.startswith("nodes.police.target: target '999' is not configured") for line in err)
    assert err[-1].endswith("kept as draft version 1, not published")
    assert admin.live() is None and admin.versions()[0].status == "draft" and installed == []


def test_an_unreadable_file_is_reported(hotline, admin: IvrAdmin, tmp_path: Path, capsys) -> None:
    assert hotline("publish", str(tmp_path / "missing.yaml"), "--by", "admin-li") == 1
    assert "cannot read" in capsys.readouterr().err and admin.versions() == []


def test_rollback_and_the_audit(hotline, admin: IvrAdmin, installed: list[str], tmp_path: Path, capsys) -> None:
    assert hotline("rollback", "--by", "admin-li") == 1
    assert "no version is live yet" in capsys.readouterr().err
    hotline("publish", flow_file(tmp_path, "a.yaml", DEFAULT), "--by", "admin-li")
    hotline("publish", flow_file(tmp_path, "b.yaml", HOLIDAY), "--by", "admin-li")
    assert hotline("rollback", "--by", "admin-wang") == 0
    assert "version 1 is live again" in capsys.readouterr().out
    assert (live := admin.live()) is not None and live.number == 1 and installed == [DEFAULT, HOLIDAY, DEFAULT]
    assert hotline("rollback", "--to", "3", "--by", "admin-wang") == 1
    assert "no IVR flow version 3" in capsys.readouterr().err

    assert hotline("audit") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2:6] for line in lines[:2]] == [
        ["admin-wang", "rollback", "version", "1"],
        ["admin-li", "publish", "version", "2"],
    ]
    assert lines[0].endswith("rolled back from version 2") and len(lines) == 5


def test_diff_of_versions_and_files(hotline, admin: IvrAdmin, tmp_path: Path, capsys) -> None:
    hotline("publish", flow_file(tmp_path, "a.yaml", DEFAULT), "--by", "admin-li")
    capsys.readouterr()
    holiday = flow_file(tmp_path, "holiday.yaml", HOLIDAY)
    assert hotline("diff", "1", holiday) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"--- version 1\n+++ {holiday}\n")
    assert "+  greeting: 您好，节日期间热线照常服务。\n" in out and out.endswith("prompts changed: greeting\n")
    assert hotline("diff", "1", "1") == 0 and capsys.readouterr().out == ""
    assert hotline("diff", "1", "7") == 1 and "no IVR flow version 7" in capsys.readouterr().err
    assert hotline("diff", "1", str(tmp_path / "none.yaml")) == 1 and "cannot read" in capsys.readouterr().err
