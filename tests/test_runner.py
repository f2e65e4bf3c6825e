"""The runner: samples -> signal -> engine -> voice -> session folder, on a fake clock (and one real kill test)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coach.plan.programme import parse_programme
from coach.session import cues as C
from coach.session.clock import SessionClock
from coach.session.engine import EngineConfig, SignalState
from coach.session.runner import SessionRunner
from coach.session.sources import shift_sample, source_samples
from coach.session.tracker import SignalTracker
from coach.store.record import SessionRecord, resolve_data_dir
from sensors.capture import CaptureWriter, read_capture
from sensors.clock import FakeClock
from sensors.samples import AccBlock, HeartRateSample, SensorEvent
from sensors.sources.moniker import parse_sensor_moniker
from sensors.sources.replay import ReplaySource

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"


@dataclass(frozen=True)
class Spoken:
    t_start: float
    duration_s: float
    backend: str = "fake"


class FakeVoice:
    """Says everything at once on the session clock; remembers what and when."""

    def __init__(self, clock: SessionClock) -> None:
        self.clock = clock
        self.said: list[tuple[float, str, str]] = []
        self.prerendered: list[str] = []
        self.closed = False

    @property
    def busy(self) -> bool:
        return False

    async def prerender(self, texts: Any) -> None:
        self.prerendered = list(texts)

    async def say(
        self, text: str, *, planned_t: float | None = None, kind: str = "", at_s: float | None = None
    ) -> Spoken:
        self.said.append((self.clock.now(), kind, text))
        return Spoken(self.clock.now(), C.estimate_duration_s(text))

    def tape_only(self, text: str, *, at_s: float | None) -> None:
        pass

    def interrupt(self) -> None:
        pass

    async def close(self) -> None:
        self.closed = True


def plan_of(text: str) -> Any:
    return parse_programme(
        f'name = "t"\ntitle = "T"\n[[stages]]\ntitle = "s"\nsession = [{text}]\n', "test.toml"
    ).plan(1)


def read_events(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def heart_rate_every_second(wall: FakeClock, clock: SessionClock, *, until_s: float | None = None) -> Any:
    """A strap that sends 90 bpm once a second of the session clock (for ever, or until ``until_s``)."""

    async def samples() -> Any:
        t = 0.0
        while until_s is None or t < until_s:
            yield HeartRateSample(t, 90)
            await wall.sleep(1.0)
            t = clock.now()

    return samples()


async def run_fake_session(
    tmp_path: Path, plan: Any, *, loop: bool = False, voice: Any = None
) -> tuple[Any, Any]:
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    record = SessionRecord(tmp_path / "data", wall_clock=wall.now)
    capture = CaptureWriter(record.capture_path, source=f"replay:{FIXTURE}", clock=wall)
    samples = source_samples(
        parse_sensor_moniker(f"replay:{FIXTURE}"), capture=capture, clock=clock, loop=loop
    )
    voice = voice or FakeVoice(clock)
    runner = SessionRunner(
        plan,
        samples,
        record=record,
        voice=voice,
        clock=clock,
        start_fields={"source": f"replay:{FIXTURE}", "speed": 1.0, "demo": False, "note": None},
        stop_when_source_ends=not loop,
        tick_s=0.1,
        echo=lambda s: None,
    )
    result = await asyncio.wait_for(runner.run(), 120)
    capture.close()
    return result, voice


async def test_session_on_a_real_recording_writes_the_folder(tmp_path: Path) -> None:
    # the recording walks 0:02-2:16 and jogs 2:16-3:21: a run asked for at 0:40 is walked through
    plan = plan_of('{ walk = "40s" }, { run = "1m" }, { walk = "40s" }, { run = "1m" }, { walk = "40s" }')
    result, voice = await run_fake_session(tmp_path, plan)
    folder = result.folder
    assert result.end_reason == "completed"
    assert folder.parent == tmp_path / "data" / "sessions"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("events.jsonl", "summary.json", "capture.jsonl"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    events = read_events(folder)
    assert events[0]["kind"] == "session_start" and events[0]["format"] == "coach-events"
    assert [p["duration_s"] for p in events[0]["plan"]] == [40.0, 60.0, 40.0, 60.0, 40.0]
    assert events[-1]["kind"] == "session_end" and events[-1]["reason"] == "completed"
    assert all(isinstance(e["t"], int | float) and isinstance(e["kind"], str) for e in events)
    starts = [e for e in events if e["kind"] == "interval_start"]
    ends = [e for e in events if e["kind"] == "interval_end"]
    assert [e["index"] for e in starts] == [e["index"] for e in ends] == [0, 1, 2, 3, 4]
    cues = [e for e in events if e["kind"] == "cue" and not e.get("dropped")]
    changes = [c for c in cues if c["type"] == "change"]
    assert [c["interval_index"] for c in changes] == [0, 1, 2, 3, 4]
    for start, cue in zip(starts, changes, strict=True):
        assert cue["planned_t"] == pytest.approx(start["t"], abs=0.2)
        # On a fake clock every task's sleep moves time, so a tick can be late by the replay's last sleep; the
        # replay may also sleep between the engine and the voice (real-time latency is measured by bench/).
        assert 0 <= cue["t"] - cue["planned_t"] < 1.0
    heads = [c for c in cues if c["type"] == "heads_up"]
    assert [c["interval_index"] for c in heads[:4]] == [1, 2, 3, 4]
    for a, b in itertools.pairwise(cues):
        assert b["t"] >= a["t"] + a["duration_s"] - 0.01  # no overlapping speech
    # what the runner did: walked through the first run (prompt), jogged in the second
    assert any(c["type"] == "prompt_run" and c["interval_index"] == 1 for c in cues)
    by_index = {e["index"]: e for e in ends}
    assert by_index[1]["time_to_comply_s"] is None
    assert by_index[3]["seconds_by_mode"]["run"] > 40
    gait = [e for e in events if e["kind"] == "gait"]
    assert len(gait) >= plan.duration_s - 10  # one per second
    assert any(g["hr_bpm"] for g in gait) and any(g["mode"] == "run" for g in gait)
    assert any(e["kind"] == "sensor" and e["state"] == "battery" for e in events)
    # summary.json, complete
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["complete"] is True and summary["end_reason"] == "completed"
    assert len(summary["intervals"]) == 5 and summary["cues"]["by_type"]["change"] == 5
    # capture.jsonl: the replayed traffic, readable as a capture
    capture = read_capture(folder / "capture.jsonl")
    assert len(capture.payloads) > 100 and capture.end_s >= plan.duration_s - 2
    # the voice got every fixed phrase before the session started
    assert {text for _, kind, text in voice.said if kind in ("change", "heads_up")} <= set(voice.prerendered)
    assert voice.closed


async def test_looped_recording_fills_a_longer_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sensors.sources.replay as replay_module

    reads: list[object] = []
    real_read = replay_module.read_capture

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[0])
        return real_read(*args, **kwargs)

    monkeypatch.setattr(replay_module, "read_capture", counted)
    plan = plan_of('{ walk = "4m" }, { run = "3m" }')  # 7 min on a 5 min recording
    result, _ = await run_fake_session(tmp_path, plan, loop=True)
    # the session's own capture is read once more at the end, by the after-run analysis (after-run.jsonl)
    replayed = [p for p in reads if Path(p) != result.folder / "capture.jsonl"]
    assert len(replayed) == 1, "a looped replay reads its file once and plays it again"
    events = read_events(result.folder)
    assert result.end_reason == "completed"
    gait_t = [e["t"] for e in events if e["kind"] == "gait"]
    assert max(gait_t) > 400 and gait_t == sorted(gait_t)
    capture = read_capture(result.folder / "capture.jsonl")
    assert capture.end_s > 400


async def test_source_that_ends_stops_the_session(tmp_path: Path) -> None:
    plan = plan_of('{ walk = "10m" }')  # longer than the 5 min recording, no loop
    result, voice = await run_fake_session(tmp_path, plan)
    assert result.end_reason == "source_ended"
    events = read_events(result.folder)
    assert events[-1]["reason"] == "source_ended"
    assert next(e for e in events if e["kind"] == "interval_end")["reason"] == "stopped"
    assert voice.said[-1][1] == "stopped"


async def test_with_the_text_voice(tmp_path: Path) -> None:
    """The real coach.voice.speaker in text mode: prints each cue once, on time."""
    from coach.voice.speaker import make_voice

    plan = plan_of('{ walk = "20s" }, { run = "20s" }')
    printed: list[str] = []
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    voice = make_voice("text", cache_dir=tmp_path / "cache", audio_out=None, clock=clock, echo=printed.append)
    record = SessionRecord(tmp_path / "data", wall_clock=wall.now)

    runner = SessionRunner(
        plan, heart_rate_every_second(wall, clock), record=record, voice=voice, clock=clock, tick_s=0.1
    )
    result = await asyncio.wait_for(runner.run(), 60)
    assert result.end_reason == "completed"
    assert "[cue] Run for twenty seconds." in printed
    events = read_events(result.folder)
    cue_types = [e["type"] for e in events if e["kind"] == "cue"]
    assert cue_types.count("change") == 2 and "session_end" in cue_types
    speech = [e for e in events if e["kind"] == "speech"]
    assert len(speech) == len(cue_types) and all(e["backend"] == "text" for e in speech)


# --- pieces ---------------------------------------------------------------------------------------------------


def test_signal_tracker_gait_hr_and_sensor_state() -> None:
    tracker = SignalTracker(sensor_timeout_s=5.0)
    for sample in ReplaySource(FIXTURE).iter_samples():
        if sample.t > 200:
            break
        tracker.feed(sample)
    records = tracker.pop_records()
    gait = [r for r in records if r["kind"] == "gait"]
    assert 190 <= len(gait) <= 200
    assert {g["mode"] for g in gait} >= {"walk", "run"}
    # heart rate: cleaned (coach.signal.heart); this strap's RR has long artefact stretches (the 12 s before t=200
    # are all rejected), so the state shows the last trusted value only while it is fresh, and most seconds have one
    assert sum(g["hr_bpm"] is not None for g in gait) > 0.6 * len(gait)
    assert sum(g["hr_samples"] for g in gait) >= 150 and sum(g["hr_rejected"] for g in gait) > 0
    state = tracker.state(200.0)
    assert state.sensor == "connected" and state.mode in ("walk", "run")
    assert state.hr_bpm == (tracker.hr_bpm if 200.0 - tracker.hr_t <= tracker.hr_max_age_s else None)
    assert tracker.state(tracker.hr_t + 1.0).hr_bpm == tracker.hr_bpm is not None
    lost = tracker.state(210.0)
    assert lost.sensor == "lost" and lost.hr_bpm is None
    assert tracker.pop_records()[-1] == {"t": 210.0, "kind": "sensor", "state": "lost"}
    tracker.feed(HeartRateSample(211.0, 100))
    assert tracker.state(211.5).sensor == "connected"
    tracker.feed(SensorEvent(212.0, "disconnected", {"reason": "link lost"}))
    assert tracker.state(212.1).sensor == "lost"


def test_shift_sample_moves_every_time() -> None:
    block = AccBlock(np.array([1.0, 1.01]), np.zeros((2, 3), dtype=np.int32), 0)
    moved = shift_sample(block, 100.0)
    assert list(moved.t_s) == [101.0, 101.01] and list(block.t_s) == [1.0, 1.01]
    assert shift_sample(HeartRateSample(2.0, 80), 10.0).t == 12.0


def test_session_clock_speed() -> None:
    wall = FakeClock(100.0)
    clock = SessionClock(wall, 8.0)
    wall.advance(2.0)
    assert clock.now() == 16.0
    clock.restart()
    assert clock.now() == 0.0
    with pytest.raises(ValueError):
        SessionClock(wall, 0)


def test_session_record_ids_modes_and_torn_summary(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    a = SessionRecord(tmp_path, started_at=at)
    b = SessionRecord(tmp_path, started_at=at)
    assert (a.session_id, b.session_id) == ("20261126T120000Z", "20261126T120000Z-2")
    a.start(programme="p", stage=1, plan=[])
    a.write({"t": 1.0, "kind": "cue", "type": "change", "text": "Go.", "planned_t": 1.0})
    with pytest.raises(ValueError):
        a.write({"kind": "cue"})
    # before close: a reader finds every line written so far
    assert [json.loads(x)["kind"] for x in (a.folder / "events.jsonl").read_text().splitlines()] == [
        "session_start",
        "cue",
    ]
    summary = a.close(complete=True)
    assert summary["cues"]["spoken"] == 1 and summary["complete"] is True
    assert stat.S_IMODE((a.folder / "summary.json").stat().st_mode) == 0o600
    b.close(complete=False)
    assert json.loads((b.folder / "summary.json").read_text())["complete"] is False


def test_data_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "opt") == tmp_path / "opt"
    monkeypatch.delenv("COACH_DATA_DIR")
    assert resolve_data_dir(None).name == "coach"


def test_the_speed_changes_no_session_time_rule() -> None:
    """One session clock: the engine and the tracker know nothing of the speed (no lead, timeout or speech time
    that grows with it)."""
    wall = FakeClock()
    runner = SessionRunner(
        plan_of('{ walk = "1m" }'),
        _empty(),
        record=None,  # type: ignore[arg-type]
        voice=FakeVoice(SessionClock(wall, 40.0)),
        clock=SessionClock(wall, 40.0),
        engine_config=EngineConfig(),
    )
    assert not hasattr(runner.engine.config, "time_scale")
    assert runner.tracker.sensor_timeout_s == 5.0
    assert isinstance(runner.tracker.state(0.0), SignalState)


async def _empty_gen() -> Any:
    return
    yield


def _empty() -> Any:
    return _empty_gen()


@pytest.mark.slow
def test_killed_session_leaves_readable_files(tmp_path: Path) -> None:
    """SIGKILL in the middle of a session: events.jsonl and capture.jsonl are readable (at most a torn last line)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coach",
            "run",
            "--sensor",
            f"replay:{FIXTURE}",
            "--programme",
            "back-pain",
            "--speed",
            "20",
            "--voice",
            "none",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 90
        events = None
        while time.monotonic() < deadline:
            found = (
                list((tmp_path / "sessions").glob("*/events.jsonl"))
                if (tmp_path / "sessions").exists()
                else []
            )
            if found and found[0].stat().st_size > 20_000:
                events = found[0]
                break
            time.sleep(0.2)
        assert events is not None, "the session did not start writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = events.read_text().splitlines()
    parsed = []
    for i, line in enumerate(lines):
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            assert i == len(lines) - 1, f"line {i + 1} of {len(lines)} is broken"
    assert parsed[0]["kind"] == "session_start"
    assert any(p["kind"] == "interval_start" for p in parsed)
    assert not any(p["kind"] == "session_end" for p in parsed)
    capture = read_capture(events.parent / "capture.jsonl")  # a torn last line is only a warning
    assert len(capture.payloads) > 10
    assert stat.S_IMODE(events.stat().st_mode) == 0o600


def test_demo_recording_is_the_fixture() -> None:
    """The demo ships a copy of the chest fixture as package data (so it works from an installed package): the
    copy must not drift from fixtures/."""
    from coach.cli.run_cmd import DEMO_RECORDING, demo_options, demo_recording

    assert demo_recording().read_bytes() == (REPO / "fixtures" / DEMO_RECORDING).read_bytes()
    opts, note = demo_options(voice="none", audio_out=None, data_dir=None, prefer_virtual=False)
    assert opts.sensor.startswith("replay:") and opts.loop and opts.demo
    assert [i.duration_s for i in opts.plan.intervals] == [60.0] + [60.0, 60.0] * 5
    assert "warm-up 5:00 -> 1:00, walks 4:00 -> 1:00, runs kept at 1:00" in note
    assert f"take about {opts.plan.duration_s / opts.speed:.0f} s" in note


async def test_pause_resume_and_stop_through_the_runner(tmp_path: Path) -> None:
    plan = plan_of('{ walk = "30s" }, { run = "30s" }')
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    voice = FakeVoice(clock)
    record = SessionRecord(tmp_path / "data", wall_clock=wall.now)
    runner: SessionRunner | None = None

    async def samples() -> Any:
        actions = {10: "pause", 25: "resume", 50: "stop"}
        t = 0
        while True:
            yield HeartRateSample(float(t), 90)
            if t in actions and runner is not None:
                getattr(runner, actions[t])()
            await wall.sleep(1.0)
            t += 1

    runner = SessionRunner(plan, samples(), record=record, voice=voice, clock=clock, tick_s=0.1)
    result = await asyncio.wait_for(runner.run(), 60)
    assert result.end_reason == "stopped"
    events = read_events(result.folder)
    assert [e["action"] for e in events if e["kind"] == "control"] == ["pause", "resume", "stop"]
    said = [kind for _, kind, _ in voice.said]
    assert said.index("paused") < said.index("resumed") < said.index("stopped")
    starts = [e for e in events if e["kind"] == "interval_start"]
    # the run interval starts 30 s of plan time in, i.e. after the ~15 s pause
    assert starts[1]["t"] == pytest.approx(45.0, abs=1.5) and starts[1]["planned_t"] == 30.0
    assert events[-1]["reason"] == "stopped"


async def test_a_source_that_cannot_start_leaves_no_session_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coach.session.sources as sources_module
    from coach.session.runner import SessionOptions, run_session
    from sensors.errors import SensorUnavailableError

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SensorUnavailableError("no strap", "switch it on")

    monkeypatch.setattr(sources_module, "source_samples", refuse)
    opts = SessionOptions(
        sensor=f"replay:{FIXTURE}",
        voice="none",
        data_dir=tmp_path,
        display=False,
        keys=False,
        echo=lambda s: None,
    )
    with pytest.raises(SensorUnavailableError):
        await run_session(opts)
    assert list((tmp_path / "sessions").iterdir()) == []


async def test_timetable_cue_interrupts_advice_only(tmp_path: Path) -> None:
    """A voice still busy (speech longer than planned): a heads-up cuts advice short, never a change cue."""
    from coach.session.cues import Cue

    wall = FakeClock()
    clock = SessionClock(wall, 1.0)

    class BusyVoice(FakeVoice):
        interrupts: list[str]

        @property
        def busy(self) -> bool:
            return True

        def interrupt(self) -> None:
            self.interrupts.append(self.said[-1][1])

    voice = BusyVoice(clock)
    voice.interrupts = []
    record = SessionRecord(tmp_path, wall_clock=wall.now)
    runner = SessionRunner(plan_of('{ walk = "1m" }'), _empty(), record=record, voice=voice, clock=clock)
    for kind in (
        "change",
        "heads_up",
        "prompt_run",
        "heads_up",
        "change",
    ):  # one at a time: the speaker keeps up
        runner._say(Cue(kind, kind, C.PRIORITY[kind], 0.0, t=0.0))
        runner._speak_queue.put_nowait(None)
        await asyncio.wait_for(runner._speaker(), 5)
    assert voice.interrupts == ["prompt_run"]
    assert [k for _, k, _ in voice.said] == ["change", "heads_up", "prompt_run", "heads_up", "change"]


async def test_a_speaker_that_falls_behind_skips_on_the_speaker_only(tmp_path: Path) -> None:
    """Cues waiting behind each other (a fast rehearsal): only the changes and the newest cue are played; the
    others are written as skipped, and go on the tape at their session times."""
    from coach.session.cues import Cue

    wall = FakeClock()
    clock = SessionClock(wall, 40.0)

    class TapeVoice(FakeVoice):
        taped: list[tuple[str, float | None]]

        def tape_only(self, text: str, *, at_s: float | None) -> None:
            self.taped.append((text, at_s))

    voice = TapeVoice(clock)
    voice.taped = []
    record = SessionRecord(tmp_path, wall_clock=wall.now)
    runner = SessionRunner(plan_of('{ walk = "1m" }'), _empty(), record=record, voice=voice, clock=clock)
    record.start(programme="t")
    kinds = ("heads_up", "prompt_run", "change", "halfway", "hr_high")
    for i, kind in enumerate(kinds):
        runner._say(Cue(kind, kind, C.PRIORITY[kind], float(i), t=float(i)))
    runner._speak_queue.put_nowait(None)
    await asyncio.wait_for(runner._speaker(), 5)
    assert [k for _, k, _ in voice.said] == ["change", "hr_high"]
    assert voice.taped == [("heads_up", 0.0), ("prompt_run", 1.0), ("halfway", 3.0)]
    speech = [r for r in record.records if r["kind"] == "speech"]
    assert [(r["type"], r["outcome"]) for r in speech] == [
        ("heads_up", "skipped"),
        ("prompt_run", "skipped"),
        ("change", "played"),
        ("halfway", "skipped"),
        ("hr_high", "played"),
    ]


async def test_sensor_drop_in_a_real_recording_is_announced_and_recorded(tmp_path: Path) -> None:
    """The strap goes silent from 60 s to 90 s of the recording: "sensor lost", then "sensor back"."""
    plan = plan_of('{ walk = "2m" }')
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    voice = FakeVoice(clock)
    record = SessionRecord(tmp_path, wall_clock=wall.now)

    async def with_gap() -> Any:
        for sample in ReplaySource(FIXTURE).iter_samples():
            if 60.0 <= sample.t < 90.0:
                continue
            while clock.now() < sample.t:  # small steps: a FakeClock jumps by whatever one sleep asks
                await wall.sleep(0.05)
            yield sample

    runner = SessionRunner(plan, with_gap(), record=record, voice=voice, clock=clock, tick_s=0.1)
    result = await asyncio.wait_for(runner.run(), 60)
    assert result.end_reason == "completed"
    events = read_events(result.folder)
    states = [
        (e["state"], e["t"]) for e in events if e["kind"] == "sensor" and e["state"] in ("lost", "connected")
    ]
    lost_t = next(t for s, t in states if s == "lost")
    assert 64.0 <= lost_t <= 66.5  # 5 s after the last sample before the gap
    assert any(s == "connected" and 90.0 <= t <= 91.5 for s, t in states)
    said = [(t, kind) for t, kind, _ in voice.said]
    lost_cue = next(t for t, k in said if k == "sensor_lost")
    back_cue = next(t for t, k in said if k == "sensor_back")
    assert lost_t + 2.5 <= lost_cue <= lost_t + 5 and 90.0 <= back_cue <= 95.0
    end = next(e for e in events if e["kind"] == "interval_end")
    assert end["seconds_by_mode"]["unknown"] >= 24.0  # the silent stretch counts as unknown, not as walking


async def test_a_programme_file_is_kept_with_the_session(tmp_path: Path) -> None:
    """session_start carries programme_file (absolute) and a copy of the file; summary.json the path."""
    from coach.plan.programme import load_file

    text = (
        'name = "mine"\ntitle = "Mine"\n[[stages]]\ntitle = "s"\nsessions = 3\nsession = [{ walk = "5s" }]\n'
    )
    path = tmp_path / "mine.toml"
    path.write_text(text)
    plan = load_file(path).plan(1)
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    record = SessionRecord(tmp_path / "data", wall_clock=wall.now)

    runner = SessionRunner(
        plan,
        heart_rate_every_second(wall, clock),
        record=record,
        voice=FakeVoice(clock),
        clock=clock,
        tick_s=0.1,
    )
    result = await asyncio.wait_for(runner.run(), 60)
    start = read_events(result.folder)[0]
    assert start["programme"] == "mine" and start["programme_file"] == str(path.resolve())
    assert start["programme_toml"] == text
    assert json.loads((result.folder / "summary.json").read_text())["programme_file"] == str(path.resolve())
    builtin = await run_fake_session(tmp_path / "b", plan_of('{ walk = "5s" }'))
    assert "programme_file" not in read_events(builtin[0].folder)[0]  # parsed from text: no file to keep


@pytest.mark.parametrize(("cadence", "speed_mps", "shown"), [(82, 2.8, 164), (164, 2.8, 164), (56, 1.3, 112)])
def test_signal_tracker_reads_a_strides_foot_pod_as_steps(cadence: int, speed_mps: float, shown: int) -> None:
    """No accelerometer, a foot pod that sends strides/min (BRIEF): the live cadence is in steps/min once the
    step length (speed / cadence) has shown it, as `coach analyze` does offline."""
    from sensors.samples import FootPodSample

    tracker = SignalTracker()
    for k in range(20):
        tracker.feed(FootPodSample(float(k), speed_mps, cadence, running=speed_mps > 2))
    state = tracker.state(20.0)
    assert state.cadence_spm == shown
    assert state.mode == ("run" if speed_mps > 2 else "walk")


@pytest.mark.parametrize("until_s", [None, 22.0], ids=["source-sending", "source-ended"])
async def test_a_session_end_that_waits_for_a_long_cue_still_comes(
    tmp_path: Path, until_s: float | None
) -> None:
    """The plan ends while a cue is still being said (each cue here takes 25 s): the session timeline moves on after
    the plan's end until the end cue has been released: by the samples while the source sends, else by the grid."""
    plan = plan_of('{ walk = "20s" }')
    wall = FakeClock()
    clock = SessionClock(wall, 1.0)
    record = SessionRecord(tmp_path / "data", wall_clock=wall.now)
    runner = SessionRunner(
        plan,
        heart_rate_every_second(wall, clock, until_s=until_s),
        record=record,
        voice=FakeVoice(clock),
        clock=clock,
        engine_config=EngineConfig(heads_up_s=0, duration_fn=lambda text: 25.0),
        tick_s=0.1,
    )
    result = await asyncio.wait_for(runner.run(), 60)
    assert result.end_reason == "completed"
    cues = [e for e in read_events(result.folder) if e["kind"] == "cue"]
    assert [c["type"] for c in cues] == ["change", "session_end"]
    assert cues[1]["planned_t"] == 20.0 and 25.4 <= cues[1]["t"] <= 26.0  # after the change cue's 25 s + gap
