"""Audio plumbing for the voice: WAV checks, a chime, player processes and the session audio tape.

Nothing here speaks: :mod:`coach.voice.speaker` renders speech into WAV files (it is the only module that imports pyttsx3)
and uses this module to check those files, to play them and to place them on the session's audio tape.

- :func:`check_wav` rejects what a speech engine can silently produce instead of speech: a missing or empty file, a
  file that is not RIFF/WAVE PCM, a header with zero frames, audio that is silent (espeak-ng exits 0 even when it
  could not write the file; pyttsx3 2.99 swallows a failed save).
- :func:`synth_chime` is the last audible fallback when no speech engine works.
- :class:`ProcessPlayer` plays a WAV through a player command (aplay, paplay, pw-play, afplay, sox ``play``) and
  reports its exit status; :func:`detect_player` finds one that actually works on this machine (a missing sound
  card makes ``play`` exit 1 and ``aplay`` fail, which pyttsx3's own ``say`` ignores).
- :class:`AudioTape` writes the whole session's audio into one mono WAV, each cue placed at its session time and
  silence elsewhere. The header is rewritten after every cue, so a killed session leaves a readable file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import struct
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: Sample rate of the tape and of the chime. espeak-ng (directly or through pyttsx3) renders at 22050 Hz.
DEFAULT_SAMPLE_RATE_HZ = 22050

#: A WAV whose RMS (full scale = 1.0) is below this is "silent". Speech from espeak-ng has an RMS of ~0.1; a 16-bit
#: file of dither or a few clicks stays below 0.003.
MIN_SPEECH_RMS = 0.003


class WavError(ValueError):
    """A WAV file that cannot be used as a cue: ``path`` and a ``reason`` a person can act on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class WavInfo:
    """What :func:`check_wav` measured: ``rms`` and ``peak`` are on a full scale of 1.0."""

    path: Path
    sample_rate_hz: int
    n_frames: int
    duration_s: float
    rms: float
    peak: float


def read_wav(path: Path | str) -> tuple[FloatArray, int]:
    """Read a PCM WAV (8/16/32-bit, any channel count) as mono float32 in [-1, 1] and its sample rate.

    Raises :class:`WavError` for a missing, empty, non-RIFF or non-PCM file, and for a truncated one (its header
    promises more frames than it holds: a write cut short).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise WavError(p, f"missing ({exc.strerror or exc})") from exc
    if size == 0:
        raise WavError(p, "empty file")
    with p.open("rb") as fh:
        head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError(p, "not a RIFF/WAVE file")
    try:
        with wave.open(str(p), "rb") as wf:
            n_channels = wf.getnchannels()
            width = wf.getsampwidth()
            rate = wf.getframerate()
            promised = wf.getnframes()
            raw = wf.readframes(promised)
    except (wave.Error, EOFError) as exc:
        raise WavError(p, f"unreadable WAV ({exc})") from exc
    held = len(raw) // (width * n_channels) if width and n_channels else 0
    if held < promised:
        raise WavError(p, f"truncated ({held} of {promised} frames)")
    data: npt.NDArray[np.float64]
    if width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
    else:
        raise WavError(p, f"unsupported sample width {width} bytes")
    n = len(data) // max(1, n_channels)
    mono = data[: n * n_channels].reshape(n, n_channels).mean(axis=1) if n_channels > 1 else data
    return mono.astype(np.float32), rate


def check_wav(path: Path | str, *, min_rms: float = MIN_SPEECH_RMS) -> WavInfo:
    """Check that ``path`` is a WAV worth playing: exists, RIFF header, non-zero frames, all of them, not silent.

    Returns a :class:`WavInfo`; raises :class:`WavError` naming what is wrong.
    """
    samples, rate = read_wav(path)
    if samples.size == 0:
        raise WavError(path, "no audio frames")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    peak = float(np.max(np.abs(samples)))
    if rms < min_rms:
        raise WavError(path, f"silent (RMS {rms:.5f} < {min_rms})")
    return WavInfo(Path(path), rate, int(samples.size), samples.size / rate, rms, peak)


def write_wav(path: Path | str, samples: FloatArray | npt.NDArray[np.float64], sample_rate_hz: int) -> None:
    """Write mono float samples in [-1, 1] as a 16-bit PCM WAV (atomically: temp file, then rename)."""
    p = Path(path)
    pcm = np.clip(np.asarray(samples, dtype=np.float64) * 32767.0, -32768, 32767).astype("<i2")
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as fh, wave.open(fh, "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(sample_rate_hz)
            wf.writeframes(pcm.tobytes())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def resample(samples: FloatArray, from_hz: int, to_hz: int) -> FloatArray:
    """Linear-interpolation resampling; good enough for speech cues placed on the tape."""
    if from_hz == to_hz or samples.size == 0:
        return samples
    n_out = max(1, round(samples.size * to_hz / from_hz))
    x_out = np.arange(n_out, dtype=np.float64) * (from_hz / to_hz)
    return np.interp(x_out, np.arange(samples.size), samples).astype(np.float32)


def synth_chime(
    *, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ, duration_s: float = 0.6, level: float = 0.5
) -> FloatArray:
    """A two-note chime (E6 then A6 with harmonics and an exponential decay): the fallback when nothing can speak."""
    n = round(duration_s * sample_rate_hz)
    t = np.arange(n, dtype=np.float64) / sample_rate_hz
    half = n // 2
    out = np.zeros(n, dtype=np.float64)
    for start, freq in ((0, 1318.5), (half, 1760.0)):
        tt = t[: n - start]
        note = np.sin(2 * np.pi * freq * tt) + 0.3 * np.sin(2 * np.pi * 2 * freq * tt)
        out[start:] += note * np.exp(-tt / 0.12)
    attack = min(n, round(0.005 * sample_rate_hz))
    out[:attack] *= np.linspace(0.0, 1.0, attack)
    out *= level / max(1e-9, float(np.max(np.abs(out))))
    return out.astype(np.float32)


# --------------------------------------------------------------------------------------------------- players


class Playback(Protocol):
    """One WAV being played. ``wait`` returns the player's exit status (0 = played)."""

    async def wait(self) -> int: ...

    def stop(self) -> None: ...

    @property
    def error(self) -> str: ...


class Player(Protocol):
    name: str

    async def start(self, path: Path) -> Playback:
        """Start playing ``path``; returns once playback has started (the process is running)."""
        ...


class _ProcessPlayback:
    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self._proc = proc
        self._name = name
        self._stopped = False
        self._error = ""

    async def wait(self) -> int:
        assert self._proc.stderr is not None
        err = await self._proc.stderr.read()
        rc = await self._proc.wait()
        if rc != 0 and not self._stopped:
            lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
            self._error = f"{self._name} exited {rc}" + (f": {lines[-1].strip()}" if lines else "")
        return 0 if self._stopped else rc

    def stop(self) -> None:
        if self._proc.returncode is None:
            self._stopped = True
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()

    @property
    def error(self) -> str:
        return self._error


class ProcessPlayer:
    """Plays a WAV with a command; ``argv`` holds ``{path}`` where the file goes (e.g. ``aplay -q {path}``)."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self.argv = list(argv)

    async def start(self, path: Path) -> Playback:
        args = [a.replace("{path}", str(path)) for a in self.argv]
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return _ProcessPlayback(proc, self.name)

    def __repr__(self) -> str:
        return f"ProcessPlayer({self.name!r}, {self.argv!r})"


class _NullPlayback:
    def __init__(self, hold_s: float) -> None:
        self._task: asyncio.Task[None] | None = (
            asyncio.get_running_loop().create_task(asyncio.sleep(hold_s)) if hold_s > 0 else None
        )

    async def wait(self) -> int:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return 0

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def error(self) -> str:
        return ""


class NullPlayer:
    """A player with no sound device: "plays" for the WAV's real duration (``pace=True``) or not at all.

    Used by the benchmark and tests on machines without a sound card, so that "never talk over itself" is still
    exercised with realistic utterance lengths.
    """

    name = "null"

    def __init__(self, *, pace: bool = True) -> None:
        self.pace = pace
        self.started: list[Path] = []

    async def start(self, path: Path) -> Playback:
        self.started.append(path)
        hold = 0.0
        if self.pace:
            with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wf:
                hold = wf.getnframes() / float(wf.getframerate())
        return _NullPlayback(hold)


#: Players tried in order, as (name, argv with ``{path}``). PipeWire / PulseAudio first (they share the device with
#: other programs), then ALSA, macOS and sox.
PLAYER_CANDIDATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pw-play", ("pw-play", "{path}")),
    ("paplay", ("paplay", "{path}")),
    ("aplay", ("aplay", "-q", "{path}")),
    ("afplay", ("afplay", "{path}")),
    ("play", ("play", "-q", "{path}")),
)


async def detect_player(
    probe_wav: Path,
    *,
    candidates: Sequence[tuple[str, Sequence[str]]] = PLAYER_CANDIDATES,
    timeout_s: float = 5.0,
) -> tuple[ProcessPlayer | None, list[str]]:
    """Find the first installed player that plays ``probe_wav`` (a short quiet WAV) with exit status 0.

    Returns the player (or None) and one line per candidate that was rejected, e.g.
    ``"play exited 1: play FAIL sox: Sorry, there is no default audio device configured"``.
    """
    reasons: list[str] = []
    for name, argv in candidates:
        exe = shutil.which(argv[0])
        if exe is None:
            reasons.append(f"{name}: not installed")
            continue
        player = ProcessPlayer(name, [exe, *argv[1:]])
        try:
            playback = await player.start(probe_wav)
            rc = await asyncio.wait_for(playback.wait(), timeout_s)
        except TimeoutError:
            playback.stop()
            reasons.append(f"{name}: no exit within {timeout_s:.0f} s")
            continue
        except OSError as exc:
            reasons.append(f"{name}: {exc}")
            continue
        if rc == 0:
            return player, reasons
        reasons.append(playback.error or f"{name} exited {rc}")
    return None, reasons


# --------------------------------------------------------------------------------------------------- tape


class AudioTape:
    """The session's audio track: one mono 16-bit WAV, every cue at its session time, silence elsewhere.

    ``add(t_s, samples, sample_rate_hz)`` places a cue starting at session second ``t_s``; cues that overlap (only
    possible when a session is time-compressed) are mixed. Frames are written as cues arrive and the RIFF header is
    rewritten each time, so the file is a valid WAV up to the last cue even if the process is killed. ``close(end_t_s)``
    pads silence to the session end. The file is created user-only (0600).
    """

    def __init__(self, path: Path | str, *, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> None:
        self.path = Path(path)
        self.sample_rate_hz = sample_rate_hz
        self.cues: list[tuple[float, float]] = []  # (start_s, duration_s) of every cue placed
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        self._fh: IO[bytes] | None = os.fdopen(fd, "w+b")
        self._n_frames = 0
        self._write_header()

    @property
    def n_frames(self) -> int:
        return self._n_frames

    def _write_header(self) -> None:
        assert self._fh is not None
        data_bytes = self._n_frames * 2
        sr = self.sample_rate_hz
        header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)
        header += b"data" + struct.pack("<I", data_bytes)
        self._fh.seek(0)
        self._fh.write(header)

    def _frame(self, t_s: float) -> int:
        return max(0, round(t_s * self.sample_rate_hz))

    def _pad_to(self, frame: int) -> None:
        """Extend the data with silence up to ``frame``: ftruncate fills with zeros (sparse where supported), so a
        long gap between cues costs no writing."""
        assert self._fh is not None
        if frame <= self._n_frames:
            return
        self._fh.flush()
        self._fh.truncate(44 + frame * 2)
        self._n_frames = frame

    def add(self, t_s: float, samples: FloatArray, sample_rate_hz: int) -> None:
        """Place ``samples`` (mono float in [-1, 1]) so that they start at session second ``t_s``."""
        if self._fh is None:
            raise ValueError(f"{self.path}: tape already closed")
        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate_hz, self.sample_rate_hz)
        start = self._frame(t_s)
        end = start + audio.size
        self.cues.append((start / self.sample_rate_hz, audio.size / self.sample_rate_hz))
        self._pad_to(start)
        mixed = audio.astype(np.float64)
        overlap = min(end, self._n_frames) - start
        if overlap > 0:  # time-compressed session: mix with what is already there
            self._fh.seek(44 + start * 2)
            existing = np.frombuffer(self._fh.read(overlap * 2), dtype="<i2").astype(np.float64) / 32767.0
            mixed[:overlap] += existing
        pcm = np.clip(mixed * 32767.0, -32768, 32767).astype("<i2")
        self._fh.seek(44 + start * 2)
        self._fh.write(pcm.tobytes())
        self._n_frames = max(self._n_frames, end)
        self._write_header()
        self._fh.flush()

    def extend_to(self, t_s: float) -> None:
        """Pad with silence up to session second ``t_s`` (no-op if the tape is already longer)."""
        if self._fh is None:
            return
        self._pad_to(self._frame(t_s))
        self._write_header()
        self._fh.flush()

    def close(self, end_t_s: float | None = None) -> None:
        if self._fh is None:
            return
        if end_t_s is not None:
            self._pad_to(self._frame(end_t_s))
        self._write_header()
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
