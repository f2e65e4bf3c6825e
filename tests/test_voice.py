"""coach.voice.speaker: one engine per worker, watchdog, WAV checks, fallback chain, no overlapping speech, the tape.

Hung and broken engines are simulated by fake workers (real subprocesses speaking the worker protocol) and fake
render functions; the watchdog timeouts are short real timeouts (marked ``realtime``). One test renders a real WAV
through pyttsx3 + espeak-ng on this machine.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import stat
import sys
import textwrap
import threading
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from coach.errors import SpeechError
from coach.voice.audio import NullPlayer, Playback, WavError, check_wav, read_wav, write_wav
from coach.voice.speaker import (
    ChimeRenderer,
    EspeakCliRenderer,
    FunctionRenderer,
    Renderer,
    RenderError,
    RenderUnavailable,
    SpokenCue,
    Voice,
    WorkerRenderer,
    estimate_duration_s,
    make_voice,
)
from sensors.clock import FakeClock

SR = 22050
MakeWorker = Callable[..., WorkerRenderer]

FAKE_WORKER = textwrap.dedent(
    """
    import json, math, os, struct, sys, time, wave
    mode, counter = sys.argv[1], sys.argv[2]
    if mode == "not-ready":
        print(json.dumps({"ready": False, "error": "no voices installed"}), flush=True)
        sys.exit(3)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        n = (int(open(counter).read()) if os.path.exists(counter) else 0) + 1
        open(counter, "w").write(str(n))
        if mode == "hang-first" and n == 1:
            time.sleep(3600)
        if mode == "crash-first" and n == 1:
            os._exit(9)
        if mode == "error":
            print(json.dumps({"id": req["id"], "ok": False, "error": "synth failed"}), flush=True)
            continue
        with wave.open(req["path"], "wb") as wf:
            wf.setnchannels(1); wf.setsampwidth(2); wf.setframerate(22050)
            if mode != "empty-wav":
                frames = [int(8000 * math.sin(i * 0.05)) for i in range(22050 // 2)]
                wf.writeframes(struct.pack("<%dh" % len(frames), *frames))
        print(json.dumps({"id": req["id"], "ok": True}), flush=True)
    """
)


@pytest.fixture
def fake_worker(tmp_path: Path) -> Iterator[MakeWorker]:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    made: list[WorkerRenderer] = []

    def make(mode: str, name: str = "fake") -> WorkerRenderer:
        counter = tmp_path / f"count-{name}-{mode}"
        r = WorkerRenderer(
            name=name, argv=[sys.executable, str(script), mode, str(counter)], start_timeout_s=30
        )
        made.append(r)
        return r

    yield make


def tone_fn(text: str, path: Path) -> None:
    t = np.arange(SR // 4) / SR
    write_wav(path, 0.3 * np.sin(2 * np.pi * (300 + len(text)) * t), SR)


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def cues(self) -> list[str]:
        return [ln for ln in self.lines if ln.startswith("[cue] ")]

    @property
    def notices(self) -> list[str]:
        return [ln for ln in self.lines if ln.startswith("[voice] ")]


def voice(
    tmp_path: Path,
    renderers: list[Renderer],
    *,
    player: object = None,
    audio_out: Path | None = None,
    clock: FakeClock | None = None,
    timeout_s: float = 2.0,
    mode: str = "tts",
) -> tuple[Voice, Recorder]:
    echo = Recorder()
    v = make_voice(
        mode,  # type: ignore[arg-type]
        cache_dir=tmp_path / "cache",
        audio_out=audio_out,
        clock=clock or FakeClock(),
        echo=echo,
        renderers=renderers,
        player=player,  # type: ignore[arg-type]
        render_timeout_s=timeout_s,
    )
    return v, echo


# ---------------------------------------------------------------- recovery without losing a cue


@pytest.mark.realtime
async def test_hung_worker_is_killed_restarted_and_the_cue_still_plays(
    tmp_path: Path, fake_worker: MakeWorker
) -> None:
    worker = fake_worker("hang-first")
    player = NullPlayer(pace=False)
    v, echo = voice(tmp_path, [worker, ChimeRenderer()], player=player, timeout_s=1.0)
    cue = await v.say("Run for one minute", planned_t=0.0, kind="change")
    assert cue.backend == "fake"
    assert worker.restarts == 1
    assert len(player.started) == 1
    assert check_wav(player.started[0]).duration_s == pytest.approx(0.5)
    assert echo.lines == []  # nothing degraded from the runner's point of view
    await v.close()


@pytest.mark.realtime
async def test_crashed_worker_is_restarted(tmp_path: Path, fake_worker: MakeWorker) -> None:
    worker = fake_worker("crash-first")
    v, _ = voice(tmp_path, [worker, ChimeRenderer()], player=NullPlayer(pace=False))
    assert (await v.say("Walk for four minutes")).backend == "fake"
    assert worker.restarts == 1
    await v.close()


@pytest.mark.realtime
async def test_empty_wav_from_engine_falls_back_to_the_next_engine(
    tmp_path: Path, fake_worker: MakeWorker
) -> None:
    broken = fake_worker("empty-wav", name="broken")
    v, echo = voice(
        tmp_path,
        [broken, FunctionRenderer("backup", tone_fn), ChimeRenderer()],
        player=NullPlayer(pace=False),
    )
    cue = await v.say("Run in ten seconds")
    assert cue.backend == "backup"
    assert broken.restarts == 2  # retried once on a fresh worker, reset again before giving up on this phrase
    assert v.failures["broken"] == 1
    assert len(echo.notices) == 1
    assert echo.notices == ["[voice] broken unavailable: speaking with backup (details: coach -v)"]
    await v.close()


@pytest.mark.realtime
async def test_hung_function_is_abandoned_and_replaced_without_blocking_the_loop(tmp_path: Path) -> None:
    release = threading.Event()

    def hang(text: str, path: Path) -> None:
        release.wait(30)

    hung = FunctionRenderer("hung", hang)
    v, _ = voice(
        tmp_path, [hung, FunctionRenderer("backup", tone_fn)], player=NullPlayer(pace=False), timeout_s=0.3
    )
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    hb = asyncio.get_running_loop().create_task(heartbeat())
    try:
        cue = await v.say("Run for one minute")
    finally:
        hb.cancel()
        release.set()
    assert cue.backend == "backup"
    assert hung.abandoned == 2  # first try and the retry both timed out
    assert ticks >= 20  # the event loop kept running during ~0.6 s of hung renders
    await v.close()


async def test_failing_engine_is_dropped_after_repeated_failures_with_one_notice(tmp_path: Path) -> None:
    calls: list[str] = []

    def fail(text: str, path: Path) -> None:
        calls.append(text)
        raise RuntimeError("espeak: cannot synthesise")

    v, echo = voice(
        tmp_path,
        [FunctionRenderer("flaky", fail), FunctionRenderer("backup", tone_fn)],
        player=NullPlayer(pace=False),
    )
    phrases = ["one", "two", "three", "four", "five"]
    cues = [await v.say(p) for p in phrases]
    assert [c.backend for c in cues] == ["backup"] * 5
    assert len(calls) == 2 * 3  # two attempts per phrase until dropped after three phrases
    assert v.backend_name == "backup"
    assert len(echo.notices) == 1
    assert "backup" in echo.notices[0]
    assert echo.cues == []
    await v.close()


# ---------------------------------------------------------------- fallback chain


@pytest.mark.realtime
async def test_fallback_order_pyttsx3_then_espeak_then_chime(
    tmp_path: Path, fake_worker: MakeWorker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coach.voice.speaker")
    broken_worker = fake_worker("not-ready", name="pyttsx3")
    espeak = EspeakCliRenderer(executable="/nonexistent/espeak-ng")
    v, echo = voice(tmp_path, [broken_worker, espeak, ChimeRenderer()], player=NullPlayer(pace=False))
    cue = await v.say("Run for one minute")
    assert cue.backend == "chime"
    assert v.backend_name == "chime"
    assert echo.cues == ["[cue] Run for one minute"]  # a chime carries no words: show them
    assert echo.notices == [
        "[voice] no speech engine: cues are shown as text with a chime (details: coach -v)"
    ]
    # the why is for -v (the log), not for the runner's screen
    assert "pyttsx3: no voices installed" in caplog.text
    assert "espeak-ng: /nonexistent/espeak-ng not installed" in caplog.text
    await v.say("Walk for four minutes")
    assert len(echo.notices) == 1
    await v.close()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_espeak_cli_is_used_when_pyttsx3_cannot_start(tmp_path: Path, fake_worker: MakeWorker) -> None:
    v, echo = voice(
        tmp_path,
        [fake_worker("not-ready", name="pyttsx3"), EspeakCliRenderer(), ChimeRenderer()],
        player=NullPlayer(pace=False),
    )
    cue = await v.say("Walk for four minutes")
    assert cue.backend == "espeak-ng"
    assert echo.notices == ["[voice] pyttsx3 unavailable: speaking with espeak-ng (details: coach -v)"]
    await v.close()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_espeak_cli_exit_0_without_a_file_is_a_failure(tmp_path: Path) -> None:
    r = EspeakCliRenderer()
    with pytest.raises(RenderError, match="Can't write"):
        await r.render("hello", tmp_path / "no-such-dir" / "x.wav")
    await r.render("hello", tmp_path / "ok.wav")
    assert check_wav(tmp_path / "ok.wav").rms > 0.02


async def test_missing_speech_engine_and_no_player_falls_back_to_text_with_one_notice(tmp_path: Path) -> None:
    def missing(text: str, path: Path) -> None:
        raise RenderError("not installed")

    out = tmp_path / "tape.wav"
    clock = FakeClock()
    v, echo = voice(tmp_path, [FunctionRenderer("pyttsx3", missing)], player=None, audio_out=out, clock=clock)
    texts = ["Run for one minute", "Walk for four minutes", "Run for one minute"]
    for k, text in enumerate(texts):
        clock.advance(10.0)
        cue = await v.say(text, planned_t=10.0 * (k + 1))
        assert cue.backend == "text"
    clock.advance(10.0)
    await v.close()
    assert echo.cues == [f"[cue] {t}" for t in texts]
    assert echo.notices == [
        "[voice] no working audio player: cues are shown as text (details: coach -v)",
        "[voice] no speech engine: --audio-out will hold chimes, not words",  # said once, not per cue
    ]
    assert v.backend_name == "text"
    assert v.engine_name == "chime"  # the tape records the chime: what a speaker would have played
    samples, sr = read_wav(out)
    for t in (10.0, 20.0, 30.0):
        assert float(np.max(np.abs(samples[round(t * sr) : round((t + 0.5) * sr)]))) > 0.3
    assert samples.size == 40 * sr


async def test_text_and_none_modes(tmp_path: Path) -> None:
    clock = FakeClock(12.0)
    v, echo = voice(tmp_path, [], mode="text", clock=clock)
    cue = await v.say("Run in ten seconds", planned_t=11.5, kind="heads_up")
    assert cue == SpokenCue(12.0, estimate_duration_s("Run in ten seconds"), "text")
    assert echo.lines == ["[cue] Run in ten seconds"]
    assert v.backend_name == "text"
    await v.close()
    v, echo = voice(tmp_path, [], mode="none", clock=clock)
    cue = await v.say("Run in ten seconds", planned_t=11.5, kind="heads_up")
    assert cue.backend == "none" and cue.t_start == 12.0
    assert echo.lines == []
    assert v.spoken == [(11.5, "heads_up", cue)]
    await v.close()


# ---------------------------------------------------------------- playback


class GatedPlayback:
    def __init__(self, rc: int = 0) -> None:
        self.done = asyncio.Event()
        self.rc = rc
        self.stopped = False

    async def wait(self) -> int:
        await self.done.wait()
        return 0 if self.stopped else self.rc

    def stop(self) -> None:
        self.stopped = True
        self.done.set()

    @property
    def error(self) -> str:
        return "" if self.rc == 0 else f"gated exited {self.rc}: no device"


class GatedPlayer:
    name = "gated"

    def __init__(self, rc: int = 0) -> None:
        self.rc = rc
        self.playbacks: list[GatedPlayback] = []

    async def start(self, path: Path) -> Playback:
        self.playbacks.append(GatedPlayback(self.rc))
        return self.playbacks[-1]


async def test_say_never_talks_over_itself_and_interrupt_cuts_short(tmp_path: Path) -> None:
    player = GatedPlayer()
    v, _ = voice(tmp_path, [FunctionRenderer("fn", tone_fn)], player=player)
    await v.prerender(["advice", "change"])
    await v.say("advice")
    assert v.busy
    second = asyncio.get_running_loop().create_task(v.say("change"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not second.done() and len(player.playbacks) == 1  # waits for the first utterance
    player.playbacks[0].done.set()
    await asyncio.wait_for(second, 5)
    assert len(player.playbacks) == 2
    third = asyncio.get_running_loop().create_task(v.say("advice"))
    await asyncio.sleep(0)
    assert not third.done()
    v.interrupt()  # an interval change pre-empts the advice being spoken
    await asyncio.wait_for(third, 5)
    assert player.playbacks[1].stopped
    player.playbacks[2].done.set()
    await v.close()


async def test_failed_playback_shows_the_cue_as_text_and_stops_using_the_player(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coach.voice.speaker")
    player = GatedPlayer(rc=1)
    v, echo = voice(tmp_path, [FunctionRenderer("fn", tone_fn)], player=player)
    cue = await v.say("Run for one minute")
    assert cue.backend == "fn"
    player.playbacks[0].done.set()
    await v.wait_idle()
    assert echo.cues == ["[cue] Run for one minute"]  # late beats lost
    assert echo.notices == ["[voice] no working audio player: cues are shown as text (details: coach -v)"]
    assert "gated exited 1: no device" in caplog.text
    assert (await v.say("Walk")).backend == "text"
    assert v.backend_name == "text"
    assert len(player.playbacks) == 1
    assert len(echo.notices) == 1
    await v.close()


async def test_prerender_fills_the_cache_so_say_does_not_render(tmp_path: Path) -> None:
    calls: list[str] = []

    def counting(text: str, path: Path) -> None:
        calls.append(text)
        tone_fn(text, path)

    v, _ = voice(tmp_path, [FunctionRenderer("fn", counting)], player=NullPlayer(pace=False))
    await v.prerender(["Run for one minute", "Walk for four minutes", "Run for one minute", " "])
    assert calls == ["Run for one minute", "Walk for four minutes"]
    await v.say("Walk for four minutes")
    assert len(calls) == 2
    cached = sorted(p for p in (tmp_path / "cache").glob("fn-*.wav"))
    assert len(cached) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in cached)
    await v.close()
    # A second voice on the same cache reuses the checked files; a corrupted one is re-rendered.
    cached[0].write_bytes(b"")
    v2, _ = voice(tmp_path, [FunctionRenderer("fn", counting)], player=NullPlayer(pace=False))
    await v2.prerender(["Run for one minute", "Walk for four minutes"])
    assert len(calls) == 3
    await v2.close()


async def test_a_slow_render_does_not_hold_up_a_prerendered_change(tmp_path: Path) -> None:
    release = threading.Event()

    def slow_for_advice(text: str, path: Path) -> None:
        if text == "Quicker, lighter steps":
            release.wait(30)
        tone_fn(text, path)

    player = NullPlayer(pace=False)
    v, _ = voice(tmp_path, [FunctionRenderer("fn", slow_for_advice)], player=player, timeout_s=30)
    await v.prerender(["Walk for four minutes"])
    advice = asyncio.get_running_loop().create_task(v.say("Quicker, lighter steps", kind="advice"))
    await asyncio.sleep(0)
    change = await asyncio.wait_for(v.say("Walk for four minutes", kind="change"), 5)
    assert change.backend == "fn"
    assert not advice.done()
    release.set()
    assert (await asyncio.wait_for(advice, 10)).backend == "fn"
    assert [p.name for p in player.started] == [
        v.cache.path_for("fn", t, None, v.rate_wpm).name
        for t in ("Walk for four minutes", "Quicker, lighter steps")
    ]
    await v.close()


# ---------------------------------------------------------------- tape through the voice


@pytest.mark.parametrize("mode", ["tts", "text", "none"])
@pytest.mark.parametrize("speaks", [True, False])
async def test_audio_out_without_a_speech_engine_says_so_once_before_the_session(
    tmp_path: Path, mode: str, speaks: bool
) -> None:
    def missing(text: str, path: Path) -> None:
        raise RenderUnavailable("not installed")

    engine = FunctionRenderer("fn", tone_fn if speaks else missing)
    v, echo = voice(
        tmp_path, [engine], player=NullPlayer(pace=False), audio_out=tmp_path / "t.wav", mode=mode
    )
    await v.prerender(["Run for one minute", "Walk for four minutes"])
    tape_notices = [n for n in echo.notices if "--audio-out" in n]
    # at the start, before any cue: the runner learns the tape will hold chimes (26 MB of them for the demo)
    assert tape_notices == (
        [] if speaks else ["[voice] no speech engine: --audio-out will hold chimes, not words"]
    )
    await v.say("Run for one minute")
    assert [n for n in echo.notices if "--audio-out" in n] == tape_notices
    await v.close()


@pytest.mark.parametrize("mode", ["tts", "text", "none"])
async def test_audio_tape_has_speech_at_every_cue_time_and_silence_elsewhere(
    tmp_path: Path, mode: str
) -> None:
    clock = FakeClock()
    out = tmp_path / "session.wav"
    v, _ = voice(
        tmp_path,
        [FunctionRenderer("fn", tone_fn)],
        player=NullPlayer(pace=False),
        audio_out=out,
        clock=clock,
        mode=mode,
    )
    times = [3.0, 10.0, 31.5, 55.0]
    for t in times:
        clock.advance(t - clock.now())
        cue = await v.say(f"cue at {t}", planned_t=t, kind="change")
        assert cue.t_start == t
        await v.wait_idle()
    clock.advance(60.0 - clock.now())
    await v.close()

    samples, sr = read_wav(out)
    assert samples.size == 60 * sr
    dur = SR // 4 / SR
    frame = 0.25
    for k in range(int(60 / frame)):
        a, b = k * frame, (k + 1) * frame
        seg = samples[round(a * sr) : round(b * sr)].astype(np.float64)
        rms = float(np.sqrt(np.mean(seg**2)))
        speaking = any(t <= a < t + dur for t in times)
        if speaking:
            assert rms > 0.1, f"no speech in [{a}, {b}) although a cue started there"
        else:
            assert rms == 0.0, f"sound in [{a}, {b}) where no cue was"


# ---------------------------------------------------------------- the real engine on this machine


async def test_real_pyttsx3_worker_renders_a_real_wav(tmp_path: Path) -> None:
    worker = WorkerRenderer(log_path=tmp_path / "worker.log", start_timeout_s=60)
    try:
        await worker.start()
    except RenderError as exc:
        pytest.skip(f"pyttsx3 cannot initialise here: {exc}")
    try:
        # no wall-clock limit: the worker answers when espeak is done, however busy the machine
        await worker.render("Run for one minute", tmp_path / "a.wav")
        await worker.render("Walk for four minutes", tmp_path / "b.wav")
    finally:
        await worker.close()
    a, b = check_wav(tmp_path / "a.wav"), check_wav(tmp_path / "b.wav")
    assert a.sample_rate_hz == b.sample_rate_hz == SR
    assert 0.5 < a.duration_s < 3.0 and 0.5 < b.duration_s < 3.0
    assert a.rms > 0.02 and b.rms > 0.02
    # Two requests, two different files: the one-utterance-per-call protocol avoids the "only the last queued
    # utterance is written" trap.
    with wave.open(str(tmp_path / "a.wav")) as wa, wave.open(str(tmp_path / "b.wav")) as wb:
        assert wa.readframes(wa.getnframes()) != wb.readframes(wb.getnframes())
    # pyttsx3's own "Audio saved to ..." chatter went to the log, not into the protocol.
    assert "Audio saved" in (tmp_path / "worker.log").read_text()


async def test_real_pyttsx3_swallows_a_failed_save_so_every_wav_is_checked(tmp_path: Path) -> None:
    """The pyttsx3 2.99 trap on this machine: saving to an unwritable path reports success."""
    worker = WorkerRenderer(log_path=tmp_path / "worker.log", start_timeout_s=60)
    try:
        await worker.start()
    except RenderError as exc:
        pytest.skip(f"pyttsx3 cannot initialise here: {exc}")
    try:
        bad = tmp_path / "no-such-dir" / "a.wav"
        # pyttsx3 itself raises nothing; the worker notices that the utterance never finished.
        with pytest.raises(RenderError, match="never finished"):
            await worker.render("Run for one minute", bad)
        with pytest.raises(WavError, match="missing"):
            check_wav(bad)
        await worker.reset()  # what Voice does after a failure: the engine may now hang, so start afresh
        await worker.render("Run for one minute", tmp_path / "ok.wav")
    finally:
        await worker.close()
    assert check_wav(tmp_path / "ok.wav").rms > 0.02
    assert "Error saving WAV file" in (tmp_path / "worker.log").read_text()


@pytest.mark.realtime
async def test_real_voice_session_tape_has_real_speech_at_each_cue(tmp_path: Path) -> None:
    """The default chain on this machine (pyttsx3 worker, then espeak-ng) with a tape, cross-checked with sox."""
    clock = FakeClock()
    out = tmp_path / "session.wav"
    echo = Recorder()
    v = make_voice("tts", cache_dir=tmp_path / "cache", audio_out=out, clock=clock, echo=echo, player=None)
    plan = [(5.0, "Run in ten seconds"), (15.0, "Run for one minute"), (75.0, "Walk for four minutes")]
    await v.prerender(text for _, text in plan)
    if v.engine_name not in ("pyttsx3", "espeak-ng"):
        pytest.skip(f"no speech engine here ({v.notices})")
    assert v.engine_name == "pyttsx3" or "pyttsx3" in v.notices[0]
    spoken = []
    for t, text in plan:
        clock.advance(t - clock.now())
        spoken.append(await v.say(text, planned_t=t, kind="change"))
    clock.advance(90.0 - clock.now())
    await v.close()
    assert echo.cues == [f"[cue] {text}" for _, text in plan]  # player=None: shown as text too
    samples, sr = read_wav(out)
    assert samples.size == 90 * sr
    ends = [cue.t_start + cue.duration_s for cue in spoken]
    for cue, end in zip(spoken, ends, strict=True):
        seg = samples[round(cue.t_start * sr) : round(end * sr)].astype(np.float64)
        assert float(np.sqrt(np.mean(seg**2))) > 0.02
    silent = np.ones(samples.size, dtype=bool)
    for cue, end in zip(spoken, ends, strict=True):
        silent[round(cue.t_start * sr) : round(end * sr)] = False
    assert not np.any(samples[silent])
    if shutil.which("sox"):
        import subprocess

        def sox_max(start: float, dur: float) -> float:
            res = subprocess.run(
                ["sox", str(out), "-n", "trim", str(start), str(dur), "stat"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            line = next(ln for ln in res.stderr.splitlines() if ln.startswith("Maximum amplitude"))
            return float(line.split(":")[1])

        assert sox_max(15.0, spoken[1].duration_s) > 0.1
        assert sox_max(30.0, 40.0) == 0.0


async def test_cue_duration_and_bad_mode(tmp_path: Path) -> None:
    v, _ = voice(tmp_path, [FunctionRenderer("fn", tone_fn)], player=None)
    assert v.cue_duration_s("Run") is None
    await v.prerender(["Run"])
    assert v.cue_duration_s("Run") == pytest.approx(0.25, abs=1e-3)
    await v.close()
    with pytest.raises(SpeechError, match="unknown voice mode 'loud'"):
        voice(tmp_path, [], mode="loud")


def test_voice_is_the_only_module_importing_pyttsx3() -> None:
    repo = Path(__file__).resolve().parents[1]
    importers = sorted(
        str(p.relative_to(repo))
        for pkg in ("coach", "sensors")
        for p in (repo / pkg).rglob("*.py")
        if re.search(r"^\s*(import pyttsx3|from pyttsx3)", p.read_text(encoding="utf-8"), re.M)
    )
    assert importers == ["coach/voice/speaker.py"]


#: A pyttsx3 whose engine writes the WAV the way the espeak driver does, then says the utterance finished; its
#: first save is cut short (the header promises every frame, the file holds half): what the driver left behind
#: when a busy machine raced it. Deterministic: no timing involved.
FAKE_RACY_PYTTSX3 = textwrap.dedent(
    """
    import wave

    saves = [0]


    class Engine:
        def __init__(self):
            self.listeners, self.job, self.props = [], None, {"voice": "fake", "rate": 170}

        def connect(self, topic, callback):
            self.listeners.append(callback)

        def getProperty(self, name):
            return self.props.get(name)

        def setProperty(self, name, value):
            self.props[name] = value

        def save_to_file(self, text, path):
            self.job = (text, path)

        def runAndWait(self):
            text, path = self.job
            saves[0] += 1
            frames = 2205 * len(text)
            with wave.open(path, "wb") as wf:
                wf.setnchannels(1)
                wf.setsampwidth(2)
                wf.setframerate(22050)
                wf.writeframes(bytes([0x00, 0x10]) * frames)
            if saves[0] == 1:
                with open(path, "r+b") as fh:
                    fh.seek(0, 2)
                    fh.truncate(fh.tell() - frames)  # half the frames are missing
            for callback in self.listeners:
                callback(completed=True)


    def init():
        return Engine()
    """
)


async def test_the_worker_renders_again_when_the_engine_leaves_a_truncated_wav(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WAV whose header promises more frames than the file holds is not a rendered phrase: the worker renders it
    once more, and only a complete file is answered ok."""
    import os

    fake = tmp_path / "fake"
    (fake / "pyttsx3").mkdir(parents=True)
    (fake / "pyttsx3" / "__init__.py").write_text(FAKE_RACY_PYTTSX3)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(fake), os.environ.get("PYTHONPATH")) if p)
    )
    worker = WorkerRenderer(log_path=tmp_path / "worker.log")
    await worker.start()
    try:
        await worker.render("Run for one minute", tmp_path / "a.wav")
    finally:
        await worker.close()
    with wave.open(str(tmp_path / "a.wav")) as wf:
        promised = wf.getnframes()
        held = len(wf.readframes(promised)) // 2
    assert promised == held == 2205 * len("Run for one minute")
    assert check_wav(tmp_path / "a.wav").n_frames == promised


@pytest.mark.slow
async def test_real_pyttsx3_worker_renders_many_phrases_completely(tmp_path: Path) -> None:
    """runAndWait returns after a fixed 10 ms sleep while espeak synthesises on its own thread; under load it
    returned before the WAV was written (6 of 60 empty WAVs with 3 busy cores). The worker waits for the
    utterance to finish and for espeak to go idle: every file must be complete."""
    worker = WorkerRenderer(log_path=tmp_path / "worker.log", start_timeout_s=60)
    try:
        await worker.start()
    except RenderError as exc:
        pytest.skip(f"pyttsx3 cannot initialise here: {exc}")
    phrases = [
        "Run in ten seconds",
        "Run for one minute",
        "Walk for four minutes",
        "Quicker, lighter steps",
        "Go",
    ]
    frames: dict[str, set[int]] = {}
    try:
        for k in range(20):
            text = phrases[k % len(phrases)]
            path = tmp_path / f"{k}.wav"
            await worker.render(text, path)
            frames.setdefault(text, set()).add(
                check_wav(path).n_frames
            )  # complete: check_wav refuses a cut WAV
    finally:
        await worker.close()
    for text, counts in frames.items():
        assert max(counts) - min(counts) < 0.05 * max(counts), (text, counts)  # never a truncated render


class HungPlayback(GatedPlayback):
    """A player that never finishes on its own (a blocked sound device)."""


class HungPlayer(GatedPlayer):
    name = "hung"

    async def start(self, path: Path) -> Playback:
        self.playbacks.append(HungPlayback())
        return self.playbacks[-1]


@pytest.mark.realtime
async def test_a_hung_player_is_stopped_and_dropped_so_later_cues_are_not_held_back(tmp_path: Path) -> None:
    player = HungPlayer()
    v, echo = voice(tmp_path, [FunctionRenderer("fn", tone_fn)], player=player)
    v.playback_grace_s = 0.2
    await v.prerender(["Run for one minute", "Walk for four minutes"])
    await v.say("Run for one minute", kind="change")
    second = await asyncio.wait_for(v.say("Walk for four minutes", kind="change"), 5)
    assert player.playbacks[0].stopped  # the watchdog stopped the hung playback
    assert len(player.playbacks) == 1 and second.backend == "text"  # and the player is no longer used
    assert echo.cues == ["[cue] Run for one minute", "[cue] Walk for four minutes"]
    await asyncio.wait_for(v.close(), 5)
