"""coach exercise: the routine's timeline against the routine file, the engine on a fake clock (pause), the runner
end to end on virtual time, the audio tape, and the CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from coach.plan.routine import load_routine, parse_routine
from coach.session import exercise as X
from coach.session.clock import SessionClock
from coach.session.exercise import ExerciseConfig, ExerciseEngine, timeline
from coach.session.exercise_runner import ExerciseRunner
from coach.store.record import SessionRecord
from coach.voice.audio import read_wav, write_wav
from coach.voice.speaker import make_voice
from sensors.clock import FakeClock
from tests import virtual_time
from tests.cli_helpers import run_main
from tests.virtual_time import LoopClock

SMALL = """
name = "small"
title = "Small"
purpose = "Test."
[[exercises]]
name = "Bridge"
how = "Lift the hips."
dose = { sets = 2, reps = 3, tempo = "2-1-3" }
rest = "25s"
rest_after = "12s"
[[exercises]]
name = "Side plank"
how = "On your side."
dose = { sets = 1, reps = 2, hold = "12s", relax = "4s" }
sides = "left/right"
"""


def _of(tl: X.Timeline, type_: str, **where: object) -> list[X.TimedCue]:
    return [c for c in tl.cues if c.type == type_ and all(getattr(c, k) == v for k, v in where.items())]


@pytest.mark.parametrize("name", ["trunk-strength", "gentle-mobility", "full-range-mobility"])
def test_timing_of_reps_holds_rests_and_side_switches_matches_the_routine_file(name: str) -> None:
    routine = load_routine(name)
    cfg = ExerciseConfig()
    tl = timeline(routine, cfg)
    times = [c.t for c in tl.cues]
    assert times == sorted(times) and tl.cues[-1].type == X.PAIN_CHECK
    for i, ex in enumerate(routine.exercises):
        dose = ex.dose
        sides = ("left", "right") if ex.sided else (None,)
        for k in range(1, dose.sets + 1):
            for side in sides:
                if dose.tempo is not None:
                    ups = _of(tl, X.PHASE, exercise=i, set=k, side=side, phase="up")
                    downs = _of(tl, X.PHASE, exercise=i, set=k, side=side, phase="down")
                    assert len(ups) == len(downs) == dose.reps
                    for a, b in itertools.pairwise(ups):  # one rep = the tempo's up + hold + down
                        assert b.t - a.t == pytest.approx(dose.tempo.rep_s, abs=2e-3)
                    for up, down in zip(ups, downs, strict=True):
                        assert down.t - up.t == pytest.approx(dose.tempo.up_s + dose.tempo.hold_s, abs=2e-3)
                    holds = _of(tl, X.PHASE, exercise=i, set=k, side=side, phase="hold")
                    assert len(holds) == (dose.reps if dose.tempo.hold_s > 0 else 0)
                    assert ups[0].text.startswith("One: ") and ups[-1].text.lower().endswith(
                        f": {ex.words[0]}."
                    )
                    end = downs[-1].t + dose.tempo.down_s
                else:
                    assert dose.hold_s is not None
                    starts = _of(tl, X.HOLD, exercise=i, set=k, side=side)
                    ends = _of(tl, X.HOLD_END, exercise=i, set=k, side=side)
                    assert len(starts) == len(ends) == dose.reps
                    for s, e in zip(starts, ends, strict=True):
                        assert e.t - s.t == pytest.approx(dose.hold_s, abs=2e-3)  # a hold is its seconds
                        counts = [c.t for c in _of(tl, X.HOLD_COUNT, exercise=i, set=k, side=side, rep=s.rep)]
                        assert all(s.t < t < e.t for t in counts)
                        if dose.hold_s >= cfg.min_countdown_hold_s:  # 3-2-1 on the last three seconds
                            assert [round(e.t - t, 2) for t in counts[-3:]] == [3.0, 2.0, 1.0]
                    for e, s in zip(ends, starts[1:], strict=False):
                        assert s.t - e.t == pytest.approx(dose.relax_s, abs=2e-3)  # relax between holds
                    end = ends[-1].t
                if side == "left":  # switch sides at once, the right side after switch_s
                    (switch,) = _of(tl, X.SWITCH, exercise=i, set=k)
                    assert (
                        switch.t == pytest.approx(end, abs=2e-3)
                        and switch.text == "Switch sides: right side."
                    )
                    first = _of(tl, X.PHASE if dose.tempo else X.HOLD, exercise=i, set=k, side="right")[0]
                    assert first.t - switch.t == pytest.approx(cfg.switch_s, abs=2e-3)
            if k < dose.sets:  # the rest between sets is the file's, and the next set is announced at its end
                (rest,) = _of(tl, X.REST, exercise=i, set=k)
                assert rest.t == pytest.approx(end, abs=2e-3)
                (nxt,) = _of(tl, X.SET, exercise=i, set=k + 1)
                assert nxt.t - rest.t == pytest.approx(ex.rest_s, abs=2e-3)
            elif i + 1 < len(routine.exercises):  # the rest after the exercise, with the next one's how-to
                (intro,) = _of(tl, X.EXERCISE, exercise=i + 1)
                assert intro.t == pytest.approx(end, abs=2e-3)
                assert routine.exercises[i + 1].how in intro.text
                (nxt,) = _of(tl, X.SET, exercise=i + 1, set=1)
                assert nxt.t - intro.t == pytest.approx(ex.rest_after_s, abs=2e-3)


def test_the_spoken_words() -> None:
    tl = timeline(load_routine("trunk-strength"))
    sets = [c.text for c in tl.cues if c.type == X.SET]
    assert sets[:3] == ["Set 1 of 3: ten bridges."] + [f"Set {k} of 3: ten bridges." for k in (2, 3)]
    assert "Set 1 of 2: side plank, three holds of ten seconds. Each side, left first." in sets
    texts = [c.text for c in tl.cues]
    assert texts[
        texts.index("Set 1 of 3: ten bridges.") + 1 : texts.index("Set 1 of 3: ten bridges.") + 4
    ] == [
        "One: up.",
        "Hold.",
        "Down.",
    ]
    assert "Rest for thirty seconds." in texts and "Next set in ten seconds." in texts
    assert texts[-2:] == [X.ROUTINE_END_TEXT, X.PAIN_CHECK_TEXT]
    assert "no pain during or after" in X.PAIN_CHECK_TEXT


def test_engine_on_a_fake_clock_releases_each_cue_at_its_time_and_a_pause_stops_routine_time() -> None:
    tl = timeline(parse_routine(SMALL, "small.toml"))
    engine = ExerciseEngine(tl)
    released: list[tuple[float, X.TimedCue]] = []
    clock = FakeClock()
    step = 0.25
    pause_at, resume_at = 20.0, 50.0
    paused_cues: list[str] = []
    while not engine.done:
        now = clock.now()
        if now == pause_at:
            paused_cues += [c.text for c, _ in engine.pause(now)]
        if now == resume_at:
            paused_cues += [c.text for c, _ in engine.resume(now)]
        released += [(c.t or 0.0, timed) for c, timed in engine.step(now) if timed.type in tl_types(tl)]
        clock.advance(step)
    assert paused_cues == ["Paused.", "Resuming."]
    assert [t for _, t in released] == list(tl.cues)  # every cue once, in order
    for t, timed in released:
        shift = resume_at - pause_at if timed.t >= pause_at else 0.0  # paused before the step at 20 s
        assert timed.t + shift <= t < timed.t + shift + step  # at its routine time (+ the pause), on the grid
    assert engine.end_reason_ == "completed"
    assert engine.routine_t == pytest.approx(tl.duration_s, abs=step)


def tl_types(tl: X.Timeline) -> set[str]:
    return {c.type for c in tl.cues}


def tone_fn(text: str, path: Path) -> None:
    sr = 16000
    t = np.arange(sr // 5) / sr  # 0.2 s of tone a cue
    write_wav(path, 0.3 * np.sin(2 * np.pi * 440 * t), sr)


class InlineRenderer:
    """A speech engine that renders :func:`tone_fn` on the event loop (a thread would take no virtual time)."""

    name = "inline"

    async def start(self) -> None:
        return None

    async def render(self, text: str, path: Path) -> None:
        tone_fn(text, path)

    async def reset(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_the_audio_tape_of_a_routine_has_speech_where_the_cues_are(tmp_path: Path) -> None:
    routine = parse_routine(SMALL, "small.toml")
    tape = tmp_path / "tape.wav"

    async def body() -> None:
        clock = SessionClock(LoopClock(), 1.0)
        voice = make_voice(
            "text",
            cache_dir=tmp_path / "cache",
            audio_out=tape,
            clock=clock,
            echo=lambda line: None,
            renderers=[InlineRenderer()],
            player=None,
        )
        record = SessionRecord(tmp_path / "data", wall_clock=clock.wall.now)
        runner = ExerciseRunner(
            timeline(routine), record=record, voice=voice, clock=clock, echo=lambda s: None
        )
        await runner.run()

    virtual_time.run(body())
    samples, sr = read_wav(tape)
    events = next((tmp_path / "data" / "sessions").iterdir()) / "events.jsonl"
    cues = [json.loads(ln) for ln in events.read_text().splitlines()]
    cue_t = [c["t"] for c in cues if c["kind"] == "cue"]
    assert len(cue_t) == len(timeline(routine).cues)
    frame = 0.1
    for k in range(int(samples.size / sr / frame)):
        a = k * frame
        seg = samples[round(a * sr) : round((a + frame) * sr)].astype(np.float64)
        rms = float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0
        speaking = any(t - 1e-6 <= a and a + frame <= t + 0.2 + 1e-6 for t in cue_t)
        quiet = all(a + frame <= t - 1e-6 or a >= t + 0.2 + 1e-6 for t in cue_t)
        if speaking:
            assert rms > 0.1, f"no speech in [{a:.1f}, {a + frame:.1f}) although a cue started there"
        elif quiet:
            assert rms == 0.0, f"sound in [{a:.1f}, {a + frame:.1f}) where no cue was"


def test_coach_exercise_gentle_mobility_voice_text_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coach.session.exercise_runner

    monkeypatch.setattr(coach.session.exercise_runner, "MonotonicClock", FakeClock)
    data = tmp_path / "data"
    code, out, err = run_main(
        "exercise", "gentle-mobility", "--voice", "text", "--data-dir", data, "--pain", "0"
    )
    assert code == 0, err
    tl = timeline(load_routine("gentle-mobility"))
    said = [ln.removeprefix("[cue] ") for ln in out.splitlines() if ln.startswith("[cue] ")]
    assert said == [c.text for c in tl.cues]  # at --speed 1 every cue is said, in order
    assert "Logged pain 0/10 after for session" in out
    (folder,) = (data / "sessions").iterdir()
    records = [json.loads(ln) for ln in (folder / "events.jsonl").read_text().splitlines()]
    start, end = records[0], records[-1]
    assert (start["activity"], start["routine"], start["speed"], start["programme"]) == (
        "exercise",
        "gentle-mobility",
        1.0,
        None,
    )
    assert end["kind"] == "session_end" and end["reason"] == "completed"
    assert end["routine_t"] == pytest.approx(tl.duration_s, abs=0.1)
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["activity"], summary["routine"], summary["complete"]) == (
        "exercise",
        "gentle-mobility",
        True,
    )
    cue_recs = [r for r in records if r["kind"] == "cue"]
    assert [r["planned_t"] for r in cue_recs] == [round(c.t, 3) for c in tl.cues]
    assert all(abs(r["t"] - r["planned_t"]) < 0.1 for r in cue_recs)  # the fake clock ticks every 0.05 s
    code, out, _ = run_main("history", "--data-dir", data)
    line = next(ln for ln in out.splitlines() if ln.endswith(folder.name))
    assert " exercise " in line and "gentle-mobility" in line, out


def test_bad_routine_and_bad_sensor_fail_in_one_line_before_a_session(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace('hold = "12s"', 'hold = "0s"'))
    data = tmp_path / "data"
    code, _out, err = run_main("exercise", bad, "--voice", "none", "--data-dir", data)
    assert code == 4 and err.count("\n") == 1 and "exercise 2 (side plank), dose.hold" in err
    code, _, err = run_main("exercise", "gentle-mobility", "--sensor", "nope:x", "--data-dir", data)
    assert code != 0 and err.count("\n") == 1
    assert not (data / "sessions").exists() or not any((data / "sessions").iterdir())


def test_the_dose_moves_up_after_pain_free_sessions_and_back_when_pain_rises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coach.session.exercise_runner

    monkeypatch.setattr(coach.session.exercise_runner, "MonotonicClock", FakeClock)
    data = tmp_path / "data"
    data.mkdir()
    (data / "progression.toml").write_text("[exercise]\nsessions_to_progress = 2\n")
    small = tmp_path / "small.toml"
    small.write_text(SMALL)

    def session(pain: str) -> str:
        code, out, err = run_main("exercise", small, "--voice", "text", "--data-dir", data, "--pain", pain)
        assert code == 0, err
        return out

    first = session("0")
    assert "Dose: notch 0 (start)" in first and "[cue] Set 1 of 2: three bridges." in first
    assert "Dose: notch 0 (stay). 1 pain-free session in a row: 1 more" in session("0")
    third = session("3")
    assert "Dose: notch 1 (up). 2 pain-free sessions in a row: up a notch." in third
    assert "[cue] Set 1 of 2: five bridges." in third  # reps + 2
    fourth = session("0")
    assert "Dose: notch 0 (down). Pain 3/10 last time (above 2): back a notch." in fourth
    assert "[cue] Set 1 of 2: three bridges." in fourth
    starts = [
        json.loads((f / "events.jsonl").open().readline()) for f in sorted((data / "sessions").iterdir())
    ]
    assert [s["dose_level"] for s in starts] == [0, 0, 1, 0]


def test_a_pause_through_the_runner_holds_the_routine_and_is_recorded(tmp_path: Path) -> None:
    routine = parse_routine(SMALL, "small.toml")
    tl = timeline(routine)
    pause_s, resume_s = 20.0, 50.0

    async def body() -> None:
        import asyncio

        clock = SessionClock(LoopClock(), 1.0)
        voice = make_voice("none", cache_dir=tmp_path / "cache", audio_out=None, clock=clock, player=None)
        record = SessionRecord(tmp_path / "data", wall_clock=clock.wall.now)
        runner = ExerciseRunner(tl, record=record, voice=voice, clock=clock, echo=lambda s: None)
        loop = asyncio.get_running_loop()
        loop.call_later(pause_s, runner.pause)  # the clock restarts at once: loop time = session time
        loop.call_later(resume_s, runner.resume)
        result = await runner.run()
        assert result.end_reason == "completed"

    virtual_time.run(body())
    folder = next((tmp_path / "data" / "sessions").iterdir())
    records = [json.loads(ln) for ln in (folder / "events.jsonl").read_text().splitlines()]
    controls = [(r["action"], round(r["t"])) for r in records if r["kind"] == "control"]
    assert controls == [("pause", 20), ("resume", 50)]
    cues = [r for r in records if r["kind"] == "cue" and r["type"] not in ("paused", "resumed")]
    assert len(cues) == len(tl.cues)
    for rec in cues:
        shift = resume_s - pause_s if rec["planned_t"] >= pause_s else 0.0
        assert rec["t"] == pytest.approx(rec["planned_t"] + shift, abs=0.06)  # nothing said while paused
    assert records[-1]["routine_t"] == pytest.approx(tl.duration_s, abs=0.06)
    assert records[-1]["duration_s"] == pytest.approx(tl.duration_s + resume_s - pause_s, abs=0.06)


def test_with_a_strap_the_session_records_heart_rate(tmp_path: Path) -> None:
    from coach.cli.run_cmd import demo_recording
    from coach.session.exercise_runner import ExerciseOptions, run_exercise

    opts = ExerciseOptions(
        routine=parse_routine(SMALL, "small.toml"),
        sensor=f"replay:{demo_recording()}",
        voice="none",
        data_dir=tmp_path / "data",
        display=False,
        keys=False,
        clock=LoopClock(),
    )
    result = virtual_time.run(run_exercise(opts))
    assert result.end_reason == "completed"
    records = [json.loads(ln) for ln in (result.folder / "events.jsonl").read_text().splitlines()]
    hr = [r["hr_bpm"] for r in records if r["kind"] == "gait" and r.get("hr_bpm") is not None]
    assert len(hr) > 60 and all(40 < b < 220 for b in hr)  # a real recording's heart rate, second by second
    assert (result.folder / "capture.jsonl").stat().st_size > 0
    code, out, _ = run_main("report", result.session_id, "--data-dir", tmp_path / "data")
    assert code == 0 and "exercise: Small" in out and "HR mean - " not in out, out
    page = tmp_path / "report.html"
    code, _, err = run_main("report", result.session_id, "--data-dir", tmp_path / "data", "--html", page)
    assert code == 0, err
    html = page.read_text()
    assert "<h1>Small" in html and "<td>Side plank</td><td>1 x 2 x 12 s hold</td><td>each side</td>" in html
    assert "Heart rate over time" in html and "followed the plan" not in html  # no run figures on a routine


def test_a_full_disk_stops_the_routine_as_it_stops_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture cannot be written (disk full): the routine stops at once, as ``coach run`` does (the shared
    shell), with one storage error; what was recorded up to then is kept and the folder is closed."""
    import errno

    import sensors.capture as capture
    from coach.cli.run_cmd import demo_recording
    from coach.errors import StorageError
    from coach.session.exercise_runner import ExerciseOptions, run_exercise

    lines_before_full = 150
    calls = [0]
    real = capture.CaptureWriter._write_line

    def write_line(self: capture.CaptureWriter, line: str) -> None:
        calls[0] += 1
        if calls[0] > lines_before_full:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        real(self, line)

    monkeypatch.setattr(capture.CaptureWriter, "_write_line", write_line)
    routine = parse_routine(SMALL, "small.toml")
    opts = ExerciseOptions(
        routine=routine,
        sensor=f"replay:{demo_recording()}",
        voice="none",
        data_dir=tmp_path / "data",
        display=False,
        keys=False,
        clock=LoopClock(),
    )
    with pytest.raises(StorageError, match=r"cannot write the session .*No space left on device"):
        virtual_time.run(run_exercise(opts))
    (folder,) = (tmp_path / "data" / "sessions").iterdir()
    records = [json.loads(ln) for ln in (folder / "events.jsonl").read_text().splitlines()]
    assert records[0]["kind"] == "session_start" and records[-1]["kind"] == "session_end"
    assert records[-1]["reason"] == "storage_error"
    assert (
        records[-1]["routine_t"] < timeline(routine).duration_s
    )  # stopped, did not carry on without the strap
    assert not any(r["kind"] == "sensor" and r.get("state") == "error" for r in records)
    assert len((folder / "capture.jsonl").read_text().splitlines()) >= lines_before_full  # every line kept
    code, out, _ = run_main("report", records[0]["session_id"], "--data-dir", tmp_path / "data")
    assert code == 0, out


def test_an_exercise_session_does_not_change_the_running_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The programme `coach plan` and `coach history` follow is the one of the latest *run*: a routine done since
    (no programme, no stage) changes neither."""
    import coach.session.exercise_runner
    from coach.plan.programme import load_programme
    from tests.after_run_helpers import hand_records, write_folder

    monkeypatch.setattr(coach.session.exercise_runner, "MonotonicClock", FakeClock)
    data = tmp_path / "data"
    records = hand_records("20261120T073000Z")
    records[0]["programme"] = "couch-to-5k"
    write_folder(data, records)
    _, before, _ = run_main("plan", "--data-dir", data)
    _, history_before, _ = run_main("history", "--data-dir", data)
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    code, _, err = run_main("exercise", small, "--voice", "none", "--data-dir", data, "--pain", "0")
    assert code == 0, err
    _, after, _ = run_main("plan", "--data-dir", data)
    assert f"Programme: {load_programme('couch-to-5k').title}" in before
    assert after.splitlines()[:3] == before.splitlines()[:3], after
    _, history_after, _ = run_main("history", "--data-dir", data)
    nxt = [ln for ln in history_before.splitlines() if ln.startswith("Next:")]
    assert nxt and nxt == [ln for ln in history_after.splitlines() if ln.startswith("Next:")]


def test_the_display_blocks_cover_the_whole_routine() -> None:
    tl = timeline(load_routine("trunk-strength"))
    blocks = tl.blocks
    assert blocks[0].start_s == 0.0 and blocks[-1].end_s == pytest.approx(tl.duration_s, abs=1e-3)
    for a, b in itertools.pairwise(blocks):
        assert a.end_s == pytest.approx(b.start_s, abs=1e-9), (
            a,
            b,
        )  # no gap: the display always names a step
    assert tl.block_at(tl.duration_s + 1e-3) is None


def test_an_exercise_session_is_exercise_everywhere_and_not_moving_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One word for what a session was (coach.vocabulary.SessionActivity), read the same by the report model, the
    index, history, the weekly moving minutes and the physio's summary: a routine is mobility and strength, not
    moving, and it has no walking cadence to miss."""
    import coach.session.exercise_runner
    from coach.store.database import Database
    from coach.store.index import history_row, moving_sessions, sync
    from tests.after_run_helpers import hand_records, write_folder

    monkeypatch.setattr(coach.session.exercise_runner, "MonotonicClock", FakeClock)
    data = tmp_path / "data"
    write_folder(data, hand_records("20261120T073000Z"))  # a walk/run session
    small = tmp_path / "small.toml"
    small.write_text(SMALL)
    code, _, err = run_main("exercise", small, "--voice", "none", "--data-dir", data, "--pain", "0")
    assert code == 0, err
    with Database.in_dir(data) as db:
        sync(db, data)
        rows = {r["id"]: history_row(db, r) for r in db.sessions()}
        moving = moving_sessions(db)
    kinds = sorted(r["activity"] for r in rows.values())
    assert kinds == ["exercise", "run"], rows
    assert [m.activity for m in moving] == ["run"]
    code, out, err = run_main("summary", "--data-dir", data)
    assert code == 0, err
    assert "no walking cadence for 2" not in out and "no walking cadence for 1 session" not in out
