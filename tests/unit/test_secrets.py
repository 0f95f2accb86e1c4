"""Secrets come only from the environment or the generated secrets file, which is never committed."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from hotline import settings as settings_module
from hotline.settings import REPO_ROOT, Settings

SECRET_FIELDS = ("ami_secret", "sip_secret")


def test_no_secret_has_a_default_in_the_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SECRET_FIELDS:
        monkeypatch.delenv(f"HOTLINE_{name.upper()}", raising=False)
    settings = Settings(_env_file=tmp_path / "none.env")
    assert [getattr(settings, name) for name in SECRET_FIELDS] == ["", ""]
    with pytest.raises(RuntimeError, match="hotline init"):
        settings.sip_password("8001")


def test_the_generated_secrets_file_is_random_private_and_ignored_by_git(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = []
    for run in ("a", "b"):
        monkeypatch.setattr(settings_module, "RUN_DIR", tmp_path / run)
        monkeypatch.setattr(settings_module, "SECRETS_FILE", tmp_path / run / "secrets.env")
        settings_module.ensure_secrets_file()
        files.append(tmp_path / run / "secrets.env")
    values = [dict(line.split("=", 1) for line in f.read_text().split()) for f in files]
    assert values[0]["HOTLINE_AMI_SECRET"] != values[1]["HOTLINE_AMI_SECRET"]
    assert len(values[0]["HOTLINE_SIP_SECRET"]) == 32
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    ignored = subprocess.run(["git", "check-ignore", "-q", ".run/secrets.env"], cwd=REPO_ROOT)
    assert ignored.returncode == 0
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    assert [name for name in tracked.split() if name.endswith(".env") or name.startswith(".run/")] == []
