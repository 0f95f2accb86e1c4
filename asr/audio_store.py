"""Caller audio on disk, written as it arrives: raw signed 16-bit mono PCM (Asterisk's `sln16`)
beside a JSON sidecar that says whose it is. The audio is the durable record: transcripts can
always be made again from it, and a crash loses at most the last unflushed frames."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import BinaryIO

from storage.private_files import open_private, private_dir

FLUSH_EVERY_BYTES = 32000  # about a second of 16 kHz audio


class AudioWriter:
    def __init__(self, path: Path):
        self.path = path
        self._out: BinaryIO = open(open_private(path, append=True), "ab")  # noqa: SIM115  # open until close()
        self._unflushed = 0
        self.bytes_written = path.stat().st_size

    def write(self, pcm: bytes) -> None:
        self._out.write(pcm)
        self.bytes_written += len(pcm)
        self._unflushed += len(pcm)
        if self._unflushed >= FLUSH_EVERY_BYTES:
            self._out.flush()
            self._unflushed = 0

    def close(self) -> None:
        """Flushes and fsyncs: from here on the audio survives a power cut."""
        if self._out.closed:
            return
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()


class AudioStore:
    def __init__(self, directory: Path):
        self.directory = directory
        private_dir(directory)

    def path(self, stream_id: str) -> Path:
        return self.directory / f"{stream_id}.sln16"

    def open(self, stream_id: str, metadata: dict) -> AudioWriter:
        sidecar = self.directory / f"{stream_id}.json"
        with open(open_private(sidecar), "w", encoding="utf-8") as out:
            out.write(json.dumps(metadata, ensure_ascii=False))
        return AudioWriter(self.path(stream_id))
