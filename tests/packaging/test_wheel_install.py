"""The install is complete: a wheel built from this tree, installed with its dependencies into a clean
venv, runs `hotline init`, `hotline ivr validate` on the shipped flow, `hotline calendar example` and
`hotline asterisk-config` from a directory that is not the checkout, on the migrations, flow,
notice and Asterisk templates inside the installed packages, and writes nothing into the checkout.

Where the machine allows a private mount namespace (root, as the README's commands run), the
commands run with the checkout hidden under an empty tmpfs, so nothing of it can be read, and
whatever they wrote there is listed afterwards."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage.tables import Base

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# What a build never needs: runtime state (the Asterisk chroot is large), the venv, build leftovers.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".run",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    ".schemathesis",
)


@dataclass(frozen=True)
class Installed:
    source: Path  # the copy of the tree the wheel was built from
    wheel: Path
    venv: Path
    build_seconds: float
    venv_seconds: float
    install_seconds: float

    @property
    def site_packages(self) -> Path:
        return self.venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment (pip's index, cache and certificates) without anything that would
    point the installed system at the checkout or another environment."""
    dropped = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_") and k not in dropped}
    return {**env, **extra}


def _run(args: Sequence[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    assert REPO not in base.parents
    # Built from a copy: building in place would leave build/ and egg-info in the checkout.
    source = base / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    started = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", source], env=_clean_env())
    built = time.monotonic()
    (wheel,) = (base / "dist").glob("hotline12345-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], env=_clean_env())  # no --system-site-packages
    made = time.monotonic()
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], env=_clean_env(), cwd=base)
    done = time.monotonic()
    result = Installed(source, wheel, venv, built - started, made - built, done - made)
    print(
        f"\nwheel built in {result.build_seconds:.1f}s, venv created in {result.venv_seconds:.1f}s, "
        f"wheel and dependencies installed in {result.install_seconds:.1f}s"
    )
    return result


def test_the_wheel_holds_every_file_of_its_packages(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    top_level = {name.split("/", 1)[0] for name in names if "/" in name and ".dist-info/" not in name}
    assert {"hotline", "storage", "ivr", "routing", "domain", "telephony", "asterisk_conf"} <= top_level
    assert not top_level & {"tests", "bench", "scripts", ".run"}
    missing = []
    for package in sorted(top_level):
        for path in sorted((installed.source / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                relative = path.relative_to(installed.source).as_posix()
                if relative not in names:
                    missing.append(relative)
    assert missing == [], "files of installed packages left out of the wheel (add them to package-data)"


def _can_hide_directories(probe: Path) -> bool:
    """Whether this process may mount a tmpfs in a mount namespace of its own."""
    probe.mkdir()
    try:
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", 'mount -t tmpfs hotline-probe "$0"', str(probe)],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# Runs inside the mount namespace when HIDE is set: the checkout becomes an empty tmpfs first.
DRIVER = r"""
set -u
if [ -n "$HIDE" ]; then mount -t tmpfs hotline-hidden "$REPO" || exit 97; fi
cd "$WORK"
run() { name=$1; shift; "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; echo $? >"$OUT/$name.rc"; }
run init "$BIN/hotline" init
run flow "$BIN/python" -c 'from hotline.settings import Settings; print(Settings().ivr_flow_file)'
run validate "$BIN/hotline" ivr validate "$(cat "$OUT/flow.out")"
run calendar "$BIN/hotline" calendar example
run asterisk "$BIN/hotline" asterisk-config --root "$ASTERISK_ROOT"
if [ -n "$HIDE" ]; then (cd "$REPO" && find . -mindepth 1) >"$OUT/repo-writes"; fi
"""


def _top_entries() -> set[str]:
    return {p.name for p in REPO.iterdir()} | {f".run/{p.name}" for p in (REPO / ".run").glob("*")}


def test_the_installed_hotline_runs_from_any_directory(installed: Installed, tmp_path: Path) -> None:
    assert REPO not in tmp_path.parents
    work, out, db = tmp_path / "work", tmp_path / "out", tmp_path / "db"
    asterisk_root = tmp_path / "asterisk-root"
    for d in (work, out, asterisk_root / "usr" / "lib" / "x86_64-linux-gnu" / "asterisk" / "modules"):
        d.mkdir(parents=True)
    hide = _can_hide_directories(tmp_path / "probe")
    before = _top_entries()
    env = _clean_env(
        HIDE="1" if hide else "",
        REPO=str(REPO),
        WORK=str(work),
        OUT=str(out),
        BIN=str(installed.venv / "bin"),
        ASTERISK_ROOT=str(asterisk_root),
        HOTLINE_DATABASE_URL=f"sqlite:///{db / 'hotline.db'}",
    )
    command = ["unshare", "-m", "bash", "-c", DRIVER] if hide else ["bash", "-c", DRIVER]
    _run(command, env=env, cwd=work)

    def result(name: str) -> str:
        rc, stderr = (out / f"{name}.rc").read_text().strip(), (out / f"{name}.err").read_text()
        assert rc == "0", f"hotline step {name!r} exited {rc}:\n{stderr}"
        return (out / f"{name}.out").read_text()

    # init: secrets in the working directory's .run/, the database migrated to the head revision.
    assert result("init").startswith(f"database ready: sqlite:///{db / 'hotline.db'}")
    assert sorted(p.name for p in (work / ".run").iterdir()) == ["secrets.env"]
    secrets = dict(line.split("=", 1) for line in (work / ".run" / "secrets.env").read_text().split())
    with sqlite3.connect(db / "hotline.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert versions == [ScriptDirectory(str(installed.source / "storage" / "migrations")).get_current_head()]

    # The shipped flow is the installed package's, and it is valid.
    flow = Path(result("flow").strip())
    assert flow == installed.site_packages / "ivr" / "flows" / "default.yaml"
    validated = result("validate")
    assert validated.startswith(f"{flow}: valid (") and " nodes, " in validated

    # The shipped calendar notice, as it is in the tree.
    assert result("calendar") == (installed.source / "domain" / "calendars" / "2026.yaml").read_text(encoding="utf-8")

    # Asterisk's configuration, rendered from the installed templates: every one, every placeholder filled.
    conf = asterisk_root / "etc" / "asterisk-hotline"
    assert result("asterisk").startswith(f"rendered {conf} ")
    templates = sorted(p.name for p in (installed.source / "asterisk_conf").glob("*.conf"))
    assert sorted(p.name for p in conf.iterdir()) == templates and len(templates) > 10
    rendered = {name: (conf / name).read_text() for name in templates}
    assert not [name for name, text in rendered.items() if "{{" in text]
    assert f"secret = {secrets['HOTLINE_AMI_SECRET']}" in rendered["manager.conf"]
    assert "astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules" in rendered["asterisk.conf"]

    # Nothing written into the checkout: inside the namespace the tmpfs over it stayed empty; without
    # one, at least no new entry at its top or in its .run/.
    if hide:
        assert (out / "repo-writes").read_text().split() == []
    else:
        assert _top_entries() - before == set()
