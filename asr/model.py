"""The Vosk model on disk: checked before loading, so a deployer is told which file is missing and how to
install the model, instead of Kaldi's bare "Failed to create a model".

Layout checked (Vosk's own loader, model.cc, reads these paths relative to the model directory):
am/final.mdl, conf/mfcc.conf, conf/model.conf, and a graph — graph/HCLG.fst, or the small models'
graph/HCLr.fst + graph/Gr.fst + graph/disambig_tid.int; an ivector/ directory, when there is one, must be
complete (a partial one is what a broken unzip leaves, and Vosk would then decode without i-vectors).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import vosk

MANDARIN_MODEL = "vosk-model-small-cn-0.22"
MANDARIN_ZIP_URL = f"https://alphacephei.com/vosk/models/{MANDARIN_MODEL}.zip"
MANDARIN_ZIP_SHA256 = "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"
INSTALL_HINT = (
    f"To install the Mandarin model: download {MANDARIN_ZIP_URL}, check that `sha256sum {MANDARIN_MODEL}.zip` "
    f"prints {MANDARIN_ZIP_SHA256}, unzip it, and set HOTLINE_ASR_MODEL_DIR to the unzipped {MANDARIN_MODEL} "
    "directory (and, to pin it, HOTLINE_ASR_MODEL_SHA256 to the digest `hotline asr check` prints)."
)

REQUIRED = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf")
FULL_GRAPH = ("graph/HCLG.fst",)
LOOKAHEAD_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int")
IVECTOR = (
    "ivector/final.dubm",
    "ivector/final.ie",
    "ivector/final.mat",
    "ivector/global_cmvn.stats",
    "ivector/online_cmvn.conf",
    "ivector/splice.conf",
)
_CHUNK = 1 << 20


class ModelError(RuntimeError):
    """The speech model cannot be used; the message says which path and what to do."""


@dataclass(frozen=True)
class EndpointerDelays:
    """When Kaldi ends an utterance, in seconds; the meaning of Vosk's later
    `KaldiRecognizer.SetEndpointerDelays(t_start_max, t_end, t_max)`, which 0.3.45 lacks: `start_max` of
    silence with nothing heard (rule 1), `end` of trailing silence after confident speech (rule 2; rule 3
    is end + 0.5 and rule 4 end + 1.0 for less confident endings), `max` utterance length (rule 5)."""

    start_max: float = 5.0
    end: float = 0.5
    max: float = 20.0

    def options(self) -> dict[str, float]:
        """As Kaldi options of conf/model.conf."""
        return {
            "--endpoint.rule1.min-trailing-silence": self.start_max,
            "--endpoint.rule2.min-trailing-silence": self.end,
            "--endpoint.rule3.min-trailing-silence": self.end + 0.5,
            "--endpoint.rule4.min-trailing-silence": self.end + 1.0,
            "--endpoint.rule5.min-utterance-length": self.max,
        }


def model_digest(path: Path) -> str:
    """SHA-256 over the model directory's files, in sorted order of their relative POSIX paths: for each,
    the path, a NUL, its size in decimal, a NUL, then its bytes (streamed).

    A digest of the directory rather than of the zip because the zip is gone once unzipped, and this
    catches what a checksum of the download cannot: a truncated unzip or a file edited afterwards (the
    official zip's own sha256 is checked once, when downloading; see INSTALL_HINT)."""
    digest = hashlib.sha256()
    for file in sorted((p for p in path.rglob("*") if p.is_file()), key=lambda p: p.relative_to(path).as_posix()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as data:
            while chunk := data.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def check_model_dir(path: Path, sha256: str | None = None) -> None:
    """Raises ModelError unless `path` holds a complete Vosk model (and, given `sha256`, one whose
    model_digest matches)."""
    if not path.exists():
        raise ModelError(f"ASR model directory {path} does not exist. {INSTALL_HINT}")
    if not path.is_dir():
        raise ModelError(f"ASR model path {path} is not a directory. {INSTALL_HINT}")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if not (path / FULL_GRAPH[0]).is_file():
        missing += [name for name in LOOKAHEAD_GRAPH if not (path / name).is_file()]
    if (path / "ivector").is_dir():
        missing += [name for name in IVECTOR if not (path / name).is_file()]
    if missing:
        raise ModelError(
            f"ASR model directory {path} is incomplete: missing {', '.join(missing)} (a Vosk model needs "
            f"{', '.join(REQUIRED)} and graph/HCLG.fst or {' + '.join(LOOKAHEAD_GRAPH)}). {INSTALL_HINT}"
        )
    empty = [name for name in (*REQUIRED, *FULL_GRAPH, *LOOKAHEAD_GRAPH) if _is_empty(path / name)]
    if empty:
        raise ModelError(f"ASR model directory {path} has empty files: {', '.join(empty)}. {INSTALL_HINT}")
    if sha256 is not None:
        actual = model_digest(path)
        if actual != sha256.lower():
            raise ModelError(
                f"ASR model directory {path} has digest {actual}, not the configured {sha256}: the files changed "
                f"or this is another model. Reinstall it, or pin the new digest. {INSTALL_HINT}"
            )


def load_model(path: Path, sha256: str | None = None, endpointer: EndpointerDelays | None = None) -> vosk.Model:
    """Checks and loads the model (seconds; ~0.5 GB). `endpointer` replaces the model's own endpoint rules
    (conf/model.conf) for this load: Vosk reads them only from that file, so the model is loaded through a
    temporary directory of links to its files with a rewritten model.conf."""
    check_model_dir(path, sha256)
    vosk.SetLogLevel(-1)
    try:
        if endpointer is None:
            return vosk.Model(str(path))
        with tempfile.TemporaryDirectory(prefix="vosk-model-") as overlay:
            return vosk.Model(str(_overlay(path, Path(overlay), endpointer)))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(
            f"Vosk could not load the model in {path} ({exc}): a file is corrupt or it is not a Vosk model. "
            f"{INSTALL_HINT}"
        ) from exc


def _is_empty(file: Path) -> bool:
    return file.is_file() and file.stat().st_size == 0


def _overlay(model: Path, overlay: Path, endpointer: EndpointerDelays) -> Path:
    model = model.resolve()
    for entry in model.iterdir():
        if entry.name != "conf":
            (overlay / entry.name).symlink_to(entry)
    (overlay / "conf").mkdir()
    for entry in (model / "conf").iterdir():
        if entry.name != "model.conf":
            (overlay / "conf" / entry.name).symlink_to(entry)
    options = endpointer.options()
    kept = [
        line
        for line in (model / "conf" / "model.conf").read_text().splitlines()
        if line.strip().split("=", 1)[0] not in options
    ]
    lines = [*kept, *(f"{name}={value}" for name, value in options.items())]
    (overlay / "conf" / "model.conf").write_text("\n".join(lines) + "\n")
    return overlay
