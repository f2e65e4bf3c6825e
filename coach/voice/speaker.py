"""The coach's voice: speech rendered into a WAV cache, played through a checked player, never freezing a session.

This is the only module that imports pyttsx3, and it does so only inside a worker subprocess
(``python -m coach.voice.speaker --worker``). pyttsx3 2.99 with espeak-ng (verified on Linux, see docs/voice.md) queues
badly (one ``runAndWait`` writes only the last of several queued files), writes files instead of speaking when
``save_to_file`` and ``say`` are mixed, swallows a failed save and then hangs in the next ``runAndWait``, plays with
``aplay`` ignoring its exit status, and is not thread safe. So:

- one worker process owns the engine and renders ONE utterance per request into a WAV file;
- every render has a watchdog: on a timeout, an error or a WAV that fails :func:`coach.voice.audio.check_wav` (missing,
  not RIFF, no frames, silent) the worker is killed and restarted and the phrase retried; a phrase that still fails
  goes to the next engine in the chain pyttsx3 -> espeak-ng command -> chime, so no cue is lost; an engine that fails
  ``max_failures`` phrases in a row is dropped;
- WAVs are cached by engine + voice + rate + text, and :meth:`Voice.prerender` renders every fixed phrase before
  the session starts, so an interval change plays at once;
- playback is a player process (:func:`coach.voice.audio.detect_player`) whose exit status is checked; when there is no
  working player (no sound card) or it fails, the cue is printed as text instead;
- all blocking work runs in subprocesses driven by asyncio, never on the event loop;
- speech never overlaps: :meth:`Voice.say` waits for the current utterance to finish; :meth:`Voice.interrupt`
  cuts it short (for an interval change that must pre-empt advice);
- with ``audio_out`` an :class:`coach.voice.audio.AudioTape` records every cue at its session time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import wave
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from coach.errors import SpeechError
from coach.voice.audio import (
    DEFAULT_SAMPLE_RATE_HZ,
    AudioTape,
    FloatArray,
    Playback,
    Player,
    WavError,
    check_wav,
    detect_player,
    read_wav,
    synth_chime,
    write_wav,
)
from sensors.clock import Clock

logger = logging.getLogger(__name__)

VoiceMode = Literal["tts", "text", "none"]
DEFAULT_RATE_WPM = 170
#: Where a fallback notice sends the user for what failed and why (logged at INFO level, shown by ``coach -v``).
DETAILS_HINT = "details: coach -v"
#: Said once when ``--audio-out`` is given but only the chime can be rendered.
TAPE_CHIMES_NOTICE = "no speech engine: --audio-out will hold chimes, not words"
#: How long the pyttsx3 worker waits for "finished-utterance" after runAndWait returned, with a pyttsx3 driver other
#: than espeak (whose own command thread tells when it is done, so the worker waits for that, without a limit).
WORKER_FINISH_WAIT_S = 5.0
#: How often the pyttsx3 worker looks whether espeak's command thread is done (seconds between looks, not a limit).
ESPEAK_POLL_S = 0.002


@dataclass(frozen=True)
class SpokenCue:
    """What happened to one cue.

    ``t_start``: clock time (session seconds) when playback STARTED (the player process was running), or when the
    text was printed; ``duration_s``: length of the utterance (for text-only cues, an estimate from the word count);
    ``backend``: what the runner heard: "pyttsx3", "espeak-ng", "chime" (played) or "text" / "none".
    """

    t_start: float
    duration_s: float
    backend: str


class RenderError(Exception):
    """A render that failed this time (timeout, error reply, bad WAV): retry, restart or fall back."""


class RenderUnavailable(RenderError):
    """The engine cannot work on this machine at all (not installed, cannot initialise): skip it from now on."""


class Renderer(Protocol):
    """A speech engine that renders one utterance into one WAV file."""

    name: str

    async def start(self) -> None:
        """Get ready (e.g. start a worker); raise :class:`RenderUnavailable` if this engine cannot work here."""
        ...

    async def render(self, text: str, path: Path) -> None:
        """Write ``text`` as speech to ``path``; the caller checks the file and puts a watchdog on the call."""
        ...

    async def reset(self) -> None:
        """Throw away the engine after a hang or a bad result (kill the worker); the next call starts afresh."""
        ...

    async def close(self) -> None: ...


def estimate_duration_s(text: str, rate_wpm: int = DEFAULT_RATE_WPM) -> float:
    """Roughly how long ``text`` takes to say at ``rate_wpm`` words per minute (used when nothing is rendered)."""
    words = max(1, len(text.split()))
    return round(0.3 + words * 60.0 / rate_wpm, 2)


# --------------------------------------------------------------------------------------------------- engines


class WorkerRenderer:
    """Renders through a worker subprocess that speaks JSON lines (see :func:`_worker_main`).

    The default worker runs pyttsx3. ``argv`` can name any program that speaks the same protocol: the tests use
    fake workers that hang, crash or write empty WAVs. The first line from the worker is
    ``{"ready": true}`` or ``{"ready": false, "error": "..."}``; then one request ``{"id", "text", "path", "voice",
    "rate"}`` per line and one reply ``{"id", "ok", "error"}`` per line.
    """

    def __init__(
        self,
        *,
        name: str = "pyttsx3",
        argv: Sequence[str] | None = None,
        voice_id: str | None = None,
        rate_wpm: int = DEFAULT_RATE_WPM,
        log_path: Path | None = None,
        start_timeout_s: float = 20.0,
    ) -> None:
        self.name = name
        self.argv = (
            list(argv) if argv is not None else [sys.executable, "-m", "coach.voice.speaker", "--worker"]
        )
        self.voice_id = voice_id
        self.rate_wpm = rate_wpm
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._unavailable: str | None = None
        self._started_once = False

    async def start(self) -> None:
        if self._unavailable is not None:
            raise RenderUnavailable(self._unavailable)
        if self._proc is not None and self._proc.returncode is None:
            return
        stderr: Any = asyncio.subprocess.DEVNULL
        log_fh = None
        if self.log_path is not None:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if self._started_once else os.O_TRUNC)
            fd = os.open(self.log_path, flags, 0o600)  # one session's log, not forever; user-only
            os.fchmod(fd, 0o600)
            log_fh = os.fdopen(fd, "ab" if self._started_once else "wb")
            self._started_once = True
            stderr = log_fh
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        except OSError as exc:
            self._unavailable = f"cannot start worker: {exc}"
            raise RenderUnavailable(self._unavailable) from exc
        finally:
            if log_fh is not None:
                log_fh.close()
        self._proc = proc
        try:
            hello = await asyncio.wait_for(self._read_line(), self.start_timeout_s)
        except (TimeoutError, RenderError) as exc:
            await self.reset()
            raise RenderError(f"worker did not start: {exc or 'timeout'}") from exc
        if not hello.get("ready"):
            await self.reset()
            self._unavailable = str(hello.get("error") or "worker refused to start")
            raise RenderUnavailable(self._unavailable)

    async def _read_line(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            rc = await self._proc.wait()
            raise RenderError(f"worker exited with status {rc}")
        try:
            msg = json.loads(line)
        except ValueError as exc:
            raise RenderError(f"worker sent garbage: {line[:80]!r}") from exc
        if not isinstance(msg, dict):
            raise RenderError(f"worker sent garbage: {line[:80]!r}")
        return msg

    async def render(self, text: str, path: Path) -> None:
        await self.start()
        assert self._proc is not None and self._proc.stdin is not None
        self._next_id += 1
        req = {
            "id": self._next_id,
            "text": text,
            "path": str(path),
            "voice": self.voice_id,
            "rate": self.rate_wpm,
        }
        try:
            self._proc.stdin.write((json.dumps(req) + "\n").encode())
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise RenderError(f"worker gone: {exc}") from exc
        while True:
            reply = await self._read_line()
            if reply.get("id") == self._next_id:
                break
        if not reply.get("ok"):
            raise RenderError(str(reply.get("error") or "worker reported failure"))

    async def reset(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self.restarts += 1
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 5.0)

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


class EspeakCliRenderer:
    """The espeak-ng command (``espeak-ng -w FILE``). It exits 0 even when it could not write: the caller checks."""

    name = "espeak-ng"

    def __init__(
        self, *, executable: str | None = None, voice_id: str | None = None, rate_wpm: int = DEFAULT_RATE_WPM
    ) -> None:
        self.executable = executable
        self.voice_id = voice_id
        self.rate_wpm = rate_wpm

    def _exe(self) -> str | None:
        if self.executable is not None:
            return shutil.which(self.executable)
        return shutil.which("espeak-ng") or shutil.which("espeak")

    async def start(self) -> None:
        if self._exe() is None:
            raise RenderUnavailable(f"{self.executable or 'espeak-ng'} not installed")

    async def render(self, text: str, path: Path) -> None:
        exe = self._exe()
        if exe is None:
            raise RenderUnavailable("espeak-ng not installed")
        args = [exe, "-s", str(self.rate_wpm), "-w", str(path)]
        if self.voice_id:
            args += ["-v", self.voice_id.split("/")[-1]]
        proc = await asyncio.create_subprocess_exec(
            *args,
            "--",
            text,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await proc.communicate()
        except asyncio.CancelledError:  # the watchdog gave up on it
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        if proc.returncode != 0:
            raise RenderError(f"espeak-ng exited {proc.returncode}: {err.decode(errors='replace').strip()}")
        if err.strip():  # e.g. "Can't write to: ..." with exit status 0
            raise RenderError(f"espeak-ng: {err.decode(errors='replace').strip()}")

    async def reset(self) -> None:
        return None

    async def close(self) -> None:
        return None


class FunctionRenderer:
    """Wraps a blocking ``fn(text, path)`` (another TTS library, or a fake in tests).

    Each call runs in its own daemon thread, so a hung function can be abandoned by the watchdog: :meth:`reset`
    forgets the stuck thread and the next call gets a fresh one ("replaced", since a thread cannot be killed).
    """

    def __init__(self, name: str, fn: Callable[[str, Path], None]) -> None:
        self.name = name
        self.fn = fn
        self.abandoned = 0

    async def start(self) -> None:
        return None

    async def render(self, text: str, path: Path) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def settle(err: BaseException | None) -> None:
            if fut.done():
                return
            if err is None:
                fut.set_result(None)
            else:
                fut.set_exception(err if isinstance(err, RenderError) else RenderError(repr(err)))

        def run() -> None:
            err: BaseException | None = None
            try:
                self.fn(text, path)
            except BaseException as exc:
                err = exc
            with contextlib.suppress(RuntimeError):  # the loop may be gone if the watchdog gave up long ago
                loop.call_soon_threadsafe(settle, err)

        threading.Thread(target=run, name=f"render-{self.name}", daemon=True).start()
        await fut

    async def reset(self) -> None:
        self.abandoned += 1

    async def close(self) -> None:
        return None


class ChimeRenderer:
    """The last audible fallback: the same short chime for every cue (the words are then shown as text)."""

    name = "chime"

    async def start(self) -> None:
        return None

    async def render(self, text: str, path: Path) -> None:
        write_wav(path, synth_chime(), DEFAULT_SAMPLE_RATE_HZ)

    async def reset(self) -> None:
        return None

    async def close(self) -> None:
        return None


# --------------------------------------------------------------------------------------------------- cache


@dataclass(frozen=True)
class RenderedCue:
    path: Path
    samples: FloatArray
    sample_rate_hz: int
    duration_s: float
    backend: str


class WavCache:
    """WAV files keyed by engine + voice + rate + text, in a user-only directory; checked files are memoised."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._memo: dict[Path, RenderedCue] = {}

    def path_for(self, engine: str, text: str, voice_id: str | None, rate_wpm: int) -> Path:
        key = f"{engine}\0{voice_id or ''}\0{rate_wpm}\0{text}".encode()
        return self.directory / f"{engine}-{hashlib.sha256(key).hexdigest()[:20]}.wav"

    def get(self, path: Path, backend: str) -> RenderedCue | None:
        """The checked cue at ``path``, or None if it is not there or not a good WAV (then it is deleted)."""
        hit = self._memo.get(path)
        if hit is not None:
            return hit
        if not path.exists():
            return None
        try:
            return self.load(path, backend)
        except WavError as exc:
            logger.info("dropping bad cached WAV %s: %s", path, exc.reason)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def memo(self, path: Path) -> RenderedCue | None:
        """The memoised cue at ``path`` (checked earlier in this process), without touching the disk."""
        return self._memo.get(path)

    def moved(self, old: Path, new: Path) -> RenderedCue:
        """Re-key a memoised cue after its file was renamed from ``old`` to ``new``."""
        cue = self._memo.pop(old)
        cue = RenderedCue(new, cue.samples, cue.sample_rate_hz, cue.duration_s, cue.backend)
        self._memo[new] = cue
        return cue

    def load(self, path: Path, backend: str) -> RenderedCue:
        """Check ``path`` (raises :class:`WavError`) and memoise it."""
        info = check_wav(path)
        samples, rate = read_wav(path)
        cue = RenderedCue(path, samples, rate, info.duration_s, backend)
        self._memo[path] = cue
        return cue


# --------------------------------------------------------------------------------------------------- voice


class Voice:
    """Speaks cues; see the module docstring. Build it with :func:`make_voice`.

    ``backend_name`` is the speech engine in use ("pyttsx3", "espeak-ng", "chime") in tts mode, else "text" or
    "none"; it becomes "text" in tts mode when no audio player works. ``player_name`` names the player, if any.
    """

    def __init__(
        self,
        mode: VoiceMode,
        *,
        renderers: Sequence[Renderer],
        player: Player | Literal["auto"] | None,
        cache_dir: Path,
        audio_out: Path | None,
        clock: Clock,
        echo: Callable[[str], None],
        voice_id: str | None = None,
        rate_wpm: int = DEFAULT_RATE_WPM,
        render_timeout_s: float = 10.0,
        max_failures: int = 3,
        playback_grace_s: float = 5.0,
    ) -> None:
        if mode not in ("tts", "text", "none"):
            raise SpeechError(f"unknown voice mode {mode!r}: use tts, text or none")
        self.mode: VoiceMode = mode
        self.clock = clock
        self.echo = echo
        self.voice_id = voice_id
        self.rate_wpm = rate_wpm
        self.render_timeout_s = render_timeout_s
        self.max_failures = max_failures
        #: A playback still running this long after the cue's own length is a hung player: stop it, drop it.
        self.playback_grace_s = playback_grace_s
        self.cache = WavCache(cache_dir)
        self.tape = AudioTape(audio_out) if audio_out is not None else None
        self._tape_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-tape")
        self.failures: dict[str, int] = {}
        self.notices: list[str] = []
        self.spoken: list[tuple[float, str, SpokenCue]] = []  # (planned_t, kind, cue), for reports and tests
        self._renderers = list(renderers)
        self._dropped: dict[str, str] = {}  # engine name -> why it is no longer used
        self._last_error: dict[str, str] = {}  # engine name -> its last failure
        self._player: Player | None = None if player == "auto" else player
        self._player_ready = player != "auto"
        self._player_reasons: list[str] = []
        self._render_lock = asyncio.Lock()
        self._player_lock = asyncio.Lock()
        self._speak_lock = asyncio.Lock()
        self._playback: Playback | None = None
        self._play_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._state: tuple[str, bool] | None = None
        self._announced: set[tuple[str, bool]] = set()
        self._tape_announced = False
        self._closed = False
        self._engine = self._renderers[0].name if self._renderers else "chime"

    # ---- state

    @property
    def backend_name(self) -> str:
        if self.mode != "tts":
            return self.mode
        if self._player_ready and self._player is None:
            return "text"
        return self._engine

    @property
    def engine_name(self) -> str:
        """The speech engine rendering cues ("pyttsx3", "espeak-ng", "chime"), whether or not a player works."""
        return self._engine

    @property
    def player_name(self) -> str | None:
        return None if self._player is None else self._player.name

    @property
    def engine_problems(self) -> dict[str, str]:
        """Why each engine before the one in use was not used (engine name -> reason), for ``coach doctor``."""
        problems: dict[str, str] = {}
        for r in self._renderers:
            if r.name == self._engine:
                break
            reason = self._dropped.get(r.name) or self._last_error.get(r.name)
            if reason:
                problems[r.name] = reason
        return problems

    @property
    def player_problems(self) -> tuple[str, ...]:
        """Why each audio player tried was rejected (or failed while playing), for ``coach doctor``."""
        return tuple(self._player_reasons)

    @property
    def busy(self) -> bool:
        """True while an utterance is playing."""
        return self._play_task is not None and not self._play_task.done()

    def _notice(self, message: str) -> None:
        self.notices.append(message)
        logger.info("notice: %s", message)
        self.echo(f"[voice] {message}")

    def _announce_state(self) -> None:
        """One notice per change of what the runner gets (engine, and whether anything is played)."""
        if self.mode != "tts" or not self._player_ready:
            return
        # Without a player every cue is text, whichever engine renders it (for the tape): one state, one notice.
        state = (self._engine, True) if self._player is not None else ("text", False)
        if state == self._state:
            return
        self._state = state
        ideal = (self._renderers[0].name if self._renderers else "chime", True)
        if state == ideal or state in self._announced:
            return
        self._announced.add(state)
        reasons = self.engine_problems
        why = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
        parts: list[str] = []
        if self._engine == "chime":
            parts.append("no speech engine")
        elif why:
            parts.append(f"{', '.join(reasons)} unavailable")
        if self._player is None:
            parts.append("no working audio player")
        if self._player is None or self._engine == "chime":
            outcome = "cues are shown as text" + (" with a chime" if self._player is not None else "")
        else:
            outcome = f"speaking with {self._engine}"
        # One short line for the runner; what failed and why (often long stderr of a player) only under -v.
        details = [f"speech engines: {why}"] if why else []
        if self._player is None:
            details.append(f"audio players: {'; '.join(self._player_reasons) or 'none found'}")
        if details:
            logger.info("voice fallback details: %s", " | ".join(details))
        self._notice(", ".join(parts) + f": {outcome} ({DETAILS_HINT})")

    def _announce_tape(self) -> None:
        """Once: an audio tape being filled with chimes, because no speech engine works (in every voice mode)."""
        if self.tape is None or self._engine != "chime" or self._tape_announced:
            return
        self._tape_announced = True
        self._notice(TAPE_CHIMES_NOTICE)

    async def _ensure_player(self) -> None:
        if self._player_ready:
            return
        async with self._player_lock:  # concurrent first cues wait for the one detection
            if self._player_ready:
                return
            probe = self.cache.directory / "probe-silence.wav"
            if not probe.exists():
                write_wav(
                    probe, np.zeros(DEFAULT_SAMPLE_RATE_HZ // 20, dtype=np.float32), DEFAULT_SAMPLE_RATE_HZ
                )
            self._player, self._player_reasons = await detect_player(probe)
            self._player_ready = True
            logger.info("audio player: %s (%s)", self.player_name, "; ".join(self._player_reasons))

    # ---- rendering

    def _active_renderers(self) -> list[Renderer]:
        return [r for r in self._renderers if r.name not in self._dropped]

    async def _render_with(self, renderer: Renderer, text: str, path: Path) -> RenderedCue:
        """One engine, watchdogged; after a timeout / error / bad WAV reset the engine and try once more."""
        last: Exception | None = None
        for attempt in (1, 2):
            tmp = path.with_name(f".tmp-{os.getpid()}-{attempt}-{path.name}")
            with contextlib.suppress(OSError):
                tmp.unlink()
            try:
                await asyncio.wait_for(renderer.start(), max(self.render_timeout_s, 30.0))
                await asyncio.wait_for(renderer.render(text, tmp), self.render_timeout_s)
                self.cache.load(tmp, renderer.name)
            except RenderUnavailable:
                raise
            except TimeoutError:
                last = RenderError(f"no answer within {self.render_timeout_s:g} s")
                logger.warning(
                    "%s hung rendering %r (attempt %d): restarting it", renderer.name, text, attempt
                )
                await renderer.reset()
            except (RenderError, WavError, OSError) as exc:
                last = exc
                logger.warning("%s failed rendering %r (attempt %d): %s", renderer.name, text, attempt, exc)
                await renderer.reset()
            else:
                os.replace(tmp, path)
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)
                return self.cache.moved(tmp, path)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        raise RenderError(str(last))

    def _cached(self, text: str) -> RenderedCue | None:
        """The already checked cue for ``text`` from the most preferred engine that has one (no I/O, no lock)."""
        for renderer in self._active_renderers():
            hit = self.cache.memo(self.cache.path_for(renderer.name, text, self.voice_id, self.rate_wpm))
            if hit is not None:
                return hit
        return None

    async def _render(self, text: str) -> RenderedCue:
        """The cue for ``text`` from the first engine that produces a good WAV (cache first)."""
        async with self._render_lock:
            try:
                for renderer in self._active_renderers():
                    path = self.cache.path_for(renderer.name, text, self.voice_id, self.rate_wpm)
                    hit = self.cache.get(path, renderer.name)
                    if hit is not None:
                        self._engine = renderer.name
                        return hit
                    try:
                        cue = await self._render_with(renderer, text, path)
                    except RenderUnavailable as exc:
                        self._dropped[renderer.name] = str(exc)
                        continue
                    except RenderError as exc:
                        self._last_error[renderer.name] = str(exc)
                        n = self.failures[renderer.name] = self.failures.get(renderer.name, 0) + 1
                        if n >= self.max_failures:
                            self._dropped[renderer.name] = f"failed {n} times, last: {exc}"
                        logger.warning(
                            "%s could not render %r: %s; trying the next engine", renderer.name, text, exc
                        )
                        continue
                    self.failures[renderer.name] = 0
                    self._engine = renderer.name
                    return cue
                # Every engine failed: the chime is always possible.
                self._engine = "chime"
                path = self.cache.directory / "chime.wav"
                if not path.exists():
                    await ChimeRenderer().render("", path)
                hit = self.cache.get(path, "chime")
                assert hit is not None
                return hit
            finally:
                self._announce_state()
                self._announce_tape()

    async def prerender(self, texts: Iterable[str]) -> None:
        """Render every phrase in ``texts`` into the cache (and find a player) before the session starts."""
        if self.mode == "tts":
            await self._ensure_player()
        if self.mode != "tts" and self.tape is None:
            return
        for text in dict.fromkeys(t for t in texts if t.strip()):
            await self._render(text)
        self._announce_state()

    # ---- speaking

    async def say(
        self, text: str, *, planned_t: float | None = None, kind: str = "", at_s: float | None = None
    ) -> SpokenCue:
        """Speak ``text``; returns when playback has STARTED (``t_start`` = clock time then).

        Waits for the utterance being played to finish first (never talks over itself); call :meth:`interrupt`
        first to cut it short. In "text" mode prints ``[cue] text`` via ``echo``; in "none" mode says nothing.
        With an audio tape, the cue's audio is placed on it in every mode, at ``at_s`` (the session time the coach
        decided to say it; the tape holds the session as it would sound in real time) or else at ``t_start``.
        """
        if self._closed:
            raise SpeechError("voice already closed")
        if self.mode == "tts":
            await self._ensure_player()
            self._announce_state()
        if self.mode != "tts" or self._player is None:
            # Nothing to play: show (or not) at once; the tape, if any, gets the audio from a background render.
            t_start = self.clock.now()
            if self.mode != "none":
                self.echo(f"[cue] {text}")
            known = self.cue_duration_s(text)
            duration = known if known is not None else estimate_duration_s(text, self.rate_wpm)
            cue = SpokenCue(t_start, duration, "text" if self.mode == "tts" else self.mode)
            if self.tape is not None:
                self._background_task(self._tape_later(t_start if at_s is None else at_s, text))
            self.spoken.append((planned_t if planned_t is not None else t_start, kind, cue))
            return cue
        # Render (or find in the cache) before queueing to speak: a slow render of one phrase never holds up a
        # prerendered interval change behind it.
        rendered = self._cached(text) or await self._render(text)
        async with self._speak_lock:
            if self._play_task is not None:
                await self._play_task
            player = self._player
            playback: Playback | None = None
            if player is not None:
                try:
                    playback = await player.start(rendered.path)
                except OSError as exc:
                    self._player_failed(f"{player.name}: {exc}")
            t_start = self.clock.now()
            if playback is None or rendered.backend == "chime":
                self.echo(f"[cue] {text}")
            backend = rendered.backend if playback is not None else "text"
            if playback is not None:
                self._playback = playback
                self._play_task = asyncio.get_running_loop().create_task(
                    self._watch_playback(
                        playback,
                        text,
                        echoed=rendered.backend == "chime",
                        limit_s=rendered.duration_s + self.playback_grace_s,
                    )
                )
            if self.tape is not None:
                self._background_task(self._tape_add(t_start if at_s is None else at_s, rendered))
            cue = SpokenCue(t_start, rendered.duration_s, backend)
            self.spoken.append((planned_t if planned_t is not None else t_start, kind, cue))
            return cue

    async def _watch_playback(self, playback: Playback, text: str, *, echoed: bool, limit_s: float) -> None:
        try:
            rc = await asyncio.wait_for(playback.wait(), limit_s)
        except TimeoutError:
            # A hung player (a blocked sound device) would hold every later cue back: stop it and stop using it.
            playback.stop()
            if not echoed:
                self.echo(f"[cue] {text}")
            self._player_failed(f"{self.player_name or 'player'}: still playing {limit_s:.0f} s later (hung)")
            return
        if rc != 0:
            # The runner did not hear it: show it now (late beats lost) and stop using this player.
            if not echoed:
                self.echo(f"[cue] {text}")
            self._player_failed(playback.error or f"player exited {rc}")

    def _player_failed(self, reason: str) -> None:
        if self._player is None:
            return
        logger.warning("audio player failed: %s", reason)
        self._player_reasons.append(reason)
        self._player = None
        self._announce_state()

    def _background_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _tape_add(self, t_start: float, rendered: RenderedCue) -> None:
        """Place a cue on the tape from the tape's own thread (disk writes stay off the event loop)."""
        if self.tape is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._tape_thread, self.tape.add, t_start, rendered.samples, rendered.sample_rate_hz
            )

    async def _tape_later(self, t_start: float, text: str) -> None:
        await self._tape_add(t_start, await self._render(text))

    def tape_only(self, text: str, *, at_s: float | None) -> None:
        """Put a cue on the audio tape (if any) at session time ``at_s`` without playing it: a cue the speaker
        skipped because it fell behind still belongs to the session's real-time coaching."""
        if self.tape is not None and not self._closed:
            self._background_task(self._tape_later(self.clock.now() if at_s is None else at_s, text))

    def cue_duration_s(self, text: str) -> float | None:
        """How long ``text`` takes to say, if it has been rendered (e.g. by :meth:`prerender`) in this process."""
        hit = self._cached(text)
        return None if hit is None else hit.duration_s

    def interrupt(self) -> None:
        """Stop the utterance being played, if any, so the next :meth:`say` starts at once."""
        if self._playback is not None and self.busy:
            self._playback.stop()

    async def wait_idle(self) -> None:
        """Wait until nothing is playing."""
        if self._play_task is not None:
            await self._play_task

    async def close(self) -> None:
        """Let the current utterance finish, stop the workers, finish the tape (padded to the clock's now)."""
        if self._closed:
            return
        self._closed = True
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._play_task is not None:
            try:
                await asyncio.wait_for(self._play_task, 15.0)
            except TimeoutError:
                self.interrupt()
        for renderer in self._renderers:
            await renderer.close()
        if self.tape is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._tape_thread, self.tape.close, self.clock.now()
            )
        self._tape_thread.shutdown(wait=False)


def make_voice(
    mode: VoiceMode,
    *,
    cache_dir: Path,
    audio_out: Path | None,
    clock: Clock,
    echo: Callable[[str], None] = print,
    voice_id: str | None = None,
    rate_wpm: int = DEFAULT_RATE_WPM,
    renderers: Sequence[Renderer] | None = None,
    player: Player | Literal["auto"] | None = "auto",
    render_timeout_s: float = 10.0,
) -> Voice:
    """The voice for a session.

    ``mode``: "tts" speaks (pyttsx3 worker -> espeak-ng command -> chime -> text), "text" prints ``[cue] text``,
    "none" is silent; every mode returns :class:`SpokenCue` records and feeds the tape. ``clock.now()`` must be in
    session seconds: cue times and tape positions use it. ``renderers`` and ``player`` are for tests and benchmarks
    (``player=None``: never play; ``"auto"``: detect one that works).
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if renderers is None:
        renderers = [
            WorkerRenderer(voice_id=voice_id, rate_wpm=rate_wpm, log_path=cache_dir / "pyttsx3-worker.log"),
            EspeakCliRenderer(voice_id=voice_id, rate_wpm=rate_wpm),
        ]
    return Voice(
        mode,
        renderers=renderers,
        player=player,
        cache_dir=cache_dir,
        audio_out=audio_out,
        clock=clock,
        echo=echo,
        voice_id=voice_id,
        rate_wpm=rate_wpm,
        render_timeout_s=render_timeout_s,
    )


# --------------------------------------------------------------------------------------------------- worker


def _espeak_is_playing() -> Callable[[], Any] | None:
    """espeak's "is the command thread running?" (``espeak_IsPlaying``), None with another pyttsx3 driver.

    In pyttsx3's espeak driver each utterance is two espeak commands: the text (audio to the driver's callback) and
    the "terminated" message, in whose callback the driver writes the WAV and then notifies "finished-utterance".
    ``Synth`` returns only once the command thread runs them, and the thread counts as running until both are done
    (espeak-ng fifo.c), so once this says False after a ``runAndWait`` the callbacks have returned: the WAV is
    written and the notification sent, or they never will be (a save that failed inside the callback).
    """
    try:
        from pyttsx3.drivers import _espeak
    except Exception:
        return None
    is_playing: Callable[[], Any] = _espeak.IsPlaying
    return is_playing


def _wait_engine_done(is_playing: Callable[[], Any]) -> None:
    """Until espeak's command thread has nothing left to run. No wall-clock limit: a busy machine only makes it
    later, and the parent's watchdog (:attr:`Voice.render_timeout_s`) kills a worker whose engine is wedged."""
    while is_playing():
        time.sleep(ESPEAK_POLL_S)


def _wav_problem(path: str) -> str | None:
    """What is wrong with the WAV the engine wrote at ``path`` (None: complete). A header that promises more frames
    than the file holds is a truncated WAV (a write cut short, or read before it was finished)."""
    try:
        with wave.open(path, "rb") as wf:
            promised = wf.getnframes()
            if promised == 0:
                return "empty WAV"
            held = len(wf.readframes(promised)) // (wf.getsampwidth() * wf.getnchannels())
    except (OSError, wave.Error, EOFError) as exc:
        return f"no WAV written ({exc})"
    return None if held == promised else f"truncated WAV ({held} of {promised} frames)"


#: Problems the worker renders the utterance once more for (a race in the driver, not a broken engine).
RETRIED_PROBLEMS = ("empty WAV", "truncated WAV", "cancelled")


def _worker_main() -> int:
    """The pyttsx3 worker: owns the one engine; renders one utterance per request line into a WAV.

    pyttsx3 prints to stdout ("Audio saved to ..."), so the protocol goes over a duplicate of the original stdout
    and fd 1 is pointed at stderr.
    """
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def send(msg: dict[str, Any]) -> None:
        proto.write(json.dumps(msg) + "\n")
        proto.flush()

    try:
        import pyttsx3

        engine = pyttsx3.init()
    except Exception as exc:
        send({"ready": False, "error": f"pyttsx3 cannot initialise: {type(exc).__name__}: {exc}"})
        return 3
    # The espeak driver synthesises on espeak's own thread and runAndWait() returns after a fixed 10 ms sleep, so
    # under load it returns before the WAV is written: the worker waits until espeak's command thread is done
    # (_espeak_is_playing), by which time the WAV is written and "finished-utterance" (completed=True) sent.
    # Every runAndWait also calls the driver's stop(), which cancels the utterance it is about to start whenever
    # espeak looks busy at that moment (an earlier utterance's tail; the command thread's close-stream moment
    # about 150 ms after going idle, which no wait can rule out); the cancel notifies completed=False. One utterance
    # at a time, waited for to the end, never needs cancelling: that stop() is switched off, and a cancel that
    # happens all the same is seen and the utterance rendered once more.
    is_playing = _espeak_is_playing()
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    if is_playing is not None and driver is not None and hasattr(driver, "_stopping"):
        driver.stop = lambda: None
    finished = threading.Event()
    cancelled = threading.Event()

    def on_finished(completed: bool = True, **_: Any) -> None:
        (finished if completed else cancelled).set()

    engine.connect("finished-utterance", on_finished)

    def render(text: str, path: str, wait_s: float) -> str | None:
        if is_playing is not None:
            _wait_engine_done(is_playing)  # nothing of an earlier utterance still running
        finished.clear()
        cancelled.clear()
        engine.save_to_file(text, path)
        engine.runAndWait()
        if is_playing is not None:
            _wait_engine_done(is_playing)
        else:
            finished.wait(wait_s)
        if cancelled.is_set():
            return "cancelled"
        if not finished.is_set():
            return "pyttsx3 never finished the utterance"
        return _wav_problem(path)

    send({"ready": True, "voice": str(engine.getProperty("voice"))})
    for line in sys.stdin:
        if not line.strip():
            continue
        req: dict[str, Any] = {}
        try:
            req = json.loads(line)
            if req.get("voice"):
                engine.setProperty("voice", req["voice"])
            engine.setProperty("rate", int(req.get("rate") or DEFAULT_RATE_WPM))
            wait_s = float(req.get("wait_s") or WORKER_FINISH_WAIT_S)
            problem = render(str(req["text"]), str(req["path"]), wait_s)
            if problem is not None and problem.startswith(
                RETRIED_PROBLEMS
            ):  # a race in the driver: once more
                problem = render(str(req["text"]), str(req["path"]), wait_s)
        except Exception as exc:
            send({"id": req.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        send({"id": req.get("id"), "ok": problem is None, "error": problem})
        if problem == "pyttsx3 never finished the utterance":
            return 4  # a save that failed inside the driver's callback leaves the engine stuck: start afresh
    return 0


if __name__ == "__main__" and "--worker" in sys.argv[1:]:
    sys.exit(_worker_main())
