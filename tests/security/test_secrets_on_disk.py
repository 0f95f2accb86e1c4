"""Issue 20 items 5 and 14: secrets and callers' data must not be readable by other local users — the
rendered manager.conf (AMI secret) and pjsip.conf (every SIP password), the SQLite database, callers'
audio — the AMI account gets only the classes hotline12345 uses, and the text `hotline up` prints (the
run log) names where credentials are, never a credential.

The files are made by the real commands in child processes started with the usual umask 022, so a fix
may set the mode on each file or the umask of our processes: either passes."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from asr.audio_store import AudioStore
from hotline.settings import AGENT_EXTENSIONS, Settings

HOTLINE = [sys.executable, "-m", "hotline.cli"]
AMI_SECRET = "security-test-ami-secret"
SIP_SECRET = "security-test-sip-secret"
DANGEROUS_WRITE_CLASSES = {"all", "system", "command", "config"}


def hotline_env(run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return {**env, "HOTLINE_RUN_DIR": str(run_dir), "HOTLINE_AMI_SECRET": AMI_SECRET, "HOTLINE_SIP_SECRET": SIP_SECRET}


def run_hotline(run_dir: Path, *args: str) -> None:
    def umask_022() -> None:
        os.umask(0o022)

    done = subprocess.run(
        [*HOTLINE, *args],
        env=hotline_env(run_dir),
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=umask_022,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def others_may_read(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IROTH | stat.S_IWOTH))


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """`hotline asterisk-config --root` into a stand-in chroot (it only needs the module directory)."""
    root = tmp_path / "asterisk-root"
    (root / "usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    run_hotline(tmp_path / "run", "asterisk-config", "--root", str(root))
    conf = root / "etc" / "asterisk-hotline"
    assert AMI_SECRET in (conf / "manager.conf").read_text()  # the secrets really are in these files
    return conf


@pytest.mark.parametrize("name", ["manager.conf", "pjsip.conf"])
def test_rendered_config_with_secrets_is_not_world_readable(rendered: Path, name: str) -> None:
    assert not others_may_read(rendered / name), oct(stat.S_IMODE((rendered / name).stat().st_mode))


def test_the_ami_account_has_no_system_command_or_config_class(rendered: Path) -> None:
    manager = configparser.ConfigParser(strict=False, interpolation=None)
    manager.read_string((rendered / "manager.conf").read_text())
    account = manager[Settings.model_fields["ami_username"].default]
    write = {c.strip().lower() for c in account.get("write", "").split(",") if c.strip()}
    assert write, "the account must still be able to act (call control)"
    assert not write & DANGEROUS_WRITE_CLASSES, write


def test_the_sqlite_database_is_not_world_readable(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_hotline(run_dir, "init")
    files = sorted(run_dir.glob("hotline.db*"))
    assert run_dir / "hotline.db" in files
    assert [f.name for f in files if others_may_read(f)] == []


def test_callers_audio_is_not_world_readable(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = AudioStore(tmp_path / "audio")
        writer = store.open("call-1", {"caller": "13800138000"})
        writer.write(b"\x00\x01" * 16000)
        writer.close()
    finally:
        os.umask(previous)
    readable = [p.name for p in [store.directory, *store.directory.iterdir()] if others_may_read(p)]
    assert readable == []


def test_the_text_hotline_up_prints_holds_no_sip_password() -> None:
    from hotline.cli import _how_to_call

    settings = Settings(sip_secret=SIP_SECRET, ami_secret=AMI_SECRET)
    printed = _how_to_call(settings)

    assert "8001" in printed  # it still tells how to register agent 8001
    leaked = [ext for ext in AGENT_EXTENSIONS + settings.department_extensions if settings.sip_password(ext) in printed]
    assert leaked == [] and AMI_SECRET not in printed and SIP_SECRET not in printed
