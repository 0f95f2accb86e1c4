"""Streaming recognition of one audio stream with Vosk: one KaldiRecognizer for the whole stream, and for
the next stream after it (restart). A recognizer caches the part of the decoding graph it has expanded: a
new one spends ~0.6 s of CPU on its first second of audio, so one per utterance costs about three times
the CPU of reusing it, one per second of audio about seven times (bench/asr_streams.py). The cache grows
with the speech decoded (here ~200 MB in the first minute, then ~5 MB a minute).

Transcripts are a function of the audio alone. Kaldi dithers the features (adds noise of amplitude 1) with
libc's rand(), so the same audio would decode differently depending on what else the process decoded
before; reseeding rand() with the stream position before each call into Kaldi keeps the dither — which
Kaldi needs on digital silence, where without it utterances stop ending — but makes it the same for the
same audio, live or transcribed again from disk, in any process.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass

import vosk

FRAME_SECONDS = 0.02  # Asterisk's frame length: AudioSocket sends 20 ms of slin16
_libc = ctypes.CDLL(None)  # the process's libc, whose rand() libvosk's dither draws from


@dataclass(frozen=True)
class Utterance:
    text: str
    final: bool
    end_seconds: float  # stream time (seconds of audio fed so far) when this result was produced


def frame_bytes(sample_rate: int) -> int:
    """Bytes of one 20 ms frame of signed 16-bit mono PCM."""
    return int(sample_rate * FRAME_SECONDS) * 2


class StreamRecognizer:
    """Feeds a stream's signed 16-bit little-endian mono PCM to one reused KaldiRecognizer."""

    def __init__(self, model: vosk.Model, sample_rate: int = 16000):
        self.sample_rate = sample_rate
        self._recognizer = vosk.KaldiRecognizer(model, sample_rate)
        self._partial = ""
        self._bytes = 0
        self._odd = b""  # a trailing half sample, kept for the next feed
        self._earlier_bytes = 0  # decoded in the streams before this one

    @property
    def seconds(self) -> float:
        """Seconds of audio fed so far."""
        return self._bytes / (2 * self.sample_rate)

    @property
    def lifetime_seconds(self) -> float:
        """Seconds of audio this recognizer has decoded, over all its streams."""
        return (self._earlier_bytes + self._bytes) / (2 * self.sample_rate)

    def feed(self, pcm: bytes) -> Utterance | None:
        """A final when Kaldi ends an utterance with text, else the partial text if it changed, else None.
        Kaldi looks for the end of an utterance once per call: feed 20 ms frames (feed_frames) to have
        utterances end where the audio says, whatever the size of the caller's chunks."""
        pcm = self._odd + pcm
        cut = len(pcm) & ~1
        pcm, self._odd = pcm[:cut], pcm[cut:]
        _libc.srand(ctypes.c_uint(self._bytes))
        self._bytes += len(pcm)
        if self._recognizer.AcceptWaveform(pcm):
            text = json.loads(self._recognizer.Result())["text"]
            if text:
                self._partial = ""
                return Utterance(text, True, self.seconds)
        partial = json.loads(self._recognizer.PartialResult())["partial"]
        if partial == self._partial:
            return None
        self._partial = partial
        return Utterance(partial, False, self.seconds)

    def feed_frames(self, pcm: bytes) -> list[Utterance]:
        """Feeds `pcm` 20 ms at a time; every result, in order."""
        size = frame_bytes(self.sample_rate)
        results = (self.feed(pcm[start : start + size]) for start in range(0, len(pcm), size))
        return [result for result in results if result is not None]

    def finish(self) -> Utterance | None:
        """The last utterance's final text, if any; the stream ends here."""
        _libc.srand(ctypes.c_uint(self._bytes))
        text = json.loads(self._recognizer.FinalResult())["text"]
        self._partial = ""
        return Utterance(text, True, self.seconds) if text else None

    def restart(self) -> None:
        """Begins a new stream (ending the current one unheard if finish() was not called). Kaldi starts
        afresh — features, speaker adaptation, decoder — so the text is what a new recognizer would give,
        but the graph it expanded stays warm."""
        self._recognizer.FinalResult()
        self._partial = ""
        self._earlier_bytes += self._bytes
        self._bytes = 0
        self._odd = b""


def transcribe(model: vosk.Model, pcm: bytes, sample_rate: int = 16000) -> str:
    """A whole recording's text: its finals, as streaming it in 20 ms frames gives them, joined by spaces."""
    stream = StreamRecognizer(model, sample_rate)
    finals = [u.text for u in stream.feed_frames(pcm) if u.final]
    last = stream.finish()
    return " ".join([*finals, *([last.text] if last else [])])
