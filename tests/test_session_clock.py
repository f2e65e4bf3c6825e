"""One session clock: a rehearsal coaches exactly like a real-time run (issue "One clock, one truth per concern").

The same chest recording through ``coach run --voice none``: on the fake clock at x1 (the reference: what a real-time
session decides), and through the real runner on the real clock at x4, x40 and x100. The cues (type, text, session
time), the per-interval figures and the cadence baseline must be the same, whatever the speed and the machine's load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coach.session.runner import RunResult, SessionOptions, run_session
from sensors.clock import FakeClock

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"  # walk, jog, stand, walk; HR 55-185

# The 5-minute programme: a one-minute warm-up, then run and walk a minute each.
PROGRAMME = """name = "five"
title = "Five minutes"
[[stages]]
title = "1 min run / 1 min walk"
session = [{ walk = "1m", label = "warm-up" }, { run = "1m" }, { walk = "1m" }, { run = "1m" }, { walk = "1m" }]
"""
HR_CEILING_BPM = 150  # the recording's jog goes to 155-163 bpm for more than 40 s


def _options(tmp_path: Path, speed: float, *, voice: str = "none", clock: Any = None) -> SessionOptions:
    programme = tmp_path / "five.toml"
    programme.write_text(PROGRAMME)
    return SessionOptions(
        sensor=f"replay:{RECORDING}",
        programme=str(programme),
        stage=1,
        speed=speed,
        voice=voice,
        data_dir=tmp_path / f"data-x{speed:g}-{voice}",
        hr_ceiling_bpm=HR_CEILING_BPM,
        display=False,
        keys=False,
        echo=lambda s: None,
        clock=clock,
    )


def _events(result: RunResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (result.folder / "events.jsonl").read_text().splitlines()]


def _cues(result: RunResult) -> list[tuple[str, str, float]]:
    return [
        (e["type"], e["text"], e["t"]) for e in _events(result) if e["kind"] == "cue" and not e.get("dropped")
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """x1 on the fake clock: what a real-time session decides."""
    import asyncio

    tmp = tmp_path_factory.mktemp("x1")
    return asyncio.run(run_session(_options(tmp, 1.0, clock=FakeClock())))


def test_the_reference_session_shows_what_was_missing(reference: RunResult) -> None:
    """The x1 session has what the faster ones used to lose: the heart-rate ceiling cue, HR per interval, a heads-up
    10 s before each change (not at 0:00 of the warm-up)."""
    cues = _cues(reference)
    assert reference.end_reason == "completed"
    assert any(kind == "hr_high" for kind, _, _ in cues)
    heads = [(text, t) for kind, text, t in cues if kind == "heads_up"]
    assert heads[0] == ("Run in ten seconds.", 50.0)
    for interval in reference.summary["intervals"]:
        assert interval["hr_mean_bpm"] is not None
    events = _events(reference)
    assert [e for e in events if e["kind"] == "gait" and e["hr_bpm"] is not None]


def assert_same_session(result: RunResult, reference: RunResult) -> None:
    assert result.end_reason == reference.end_reason
    got, want = _cues(result), _cues(reference)
    assert [(k, text) for k, text, _ in got] == [(k, text) for k, text, _ in want]
    for (kind, text, t), (_, _, t_ref) in zip(got, want, strict=True):
        assert abs(t - t_ref) <= 1.0, f"{kind} {text!r} at {t} s, {t_ref} s in real time"
    assert result.summary["cadence_baseline_spm"] == reference.summary["cadence_baseline_spm"]
    live = {e["index"]: e for e in _events(result) if e["kind"] == "interval_end"}
    live_ref = {e["index"]: e for e in _events(reference) if e["kind"] == "interval_end"}
    for figures, figures_ref in (
        (result.summary["intervals"], reference.summary["intervals"]),
        (live, live_ref),
    ):
        rows = list(figures.values()) if isinstance(figures, dict) else figures
        rows_ref = list(figures_ref.values()) if isinstance(figures_ref, dict) else figures_ref
        assert len(rows) == len(rows_ref)
        for iv, ref in zip(rows, rows_ref, strict=True):
            assert iv["index"] == ref["index"]
            for key, tolerance in (("adherence", 0.05), ("cadence_median_spm", 2.0), ("hr_mean_bpm", 2.0)):
                if ref[key] is None:
                    assert iv[key] is None, (key, iv)
                else:
                    assert iv[key] is not None and abs(iv[key] - ref[key]) <= tolerance, (
                        key,
                        iv[key],
                        ref[key],
                    )
            assert iv["hr_mean_bpm"] is not None  # HR was recorded all through


@pytest.mark.parametrize("speed", [40.0, 100.0])
async def test_a_fast_rehearsal_coaches_like_real_time(
    tmp_path: Path, reference: RunResult, speed: float
) -> None:
    result = await run_session(_options(tmp_path, speed))
    assert_same_session(result, reference)


@pytest.mark.realtime
async def test_a_x4_rehearsal_coaches_like_real_time(tmp_path: Path, reference: RunResult) -> None:
    """75 s of wall time: behind the opt-in ``realtime`` marker."""
    result = await run_session(_options(tmp_path, 4.0))
    assert_same_session(result, reference)


async def test_with_the_voice_on_the_change_cues_are_the_same(tmp_path: Path, reference: RunResult) -> None:
    """The voice (speech engine if the machine has one, else text) takes real time to speak; at x40 it cannot keep
    up, so it skips advice on the speaker, but every interval change is played, at the same session times."""
    result = await run_session(_options(tmp_path, 40.0, voice="tts"))
    changes = [(text, t) for kind, text, t in _cues(result) if kind == "change"]
    assert changes == [(text, t) for kind, text, t in _cues(reference) if kind == "change"]
    played = [e for e in _events(result) if e["kind"] == "speech" and e["type"] == "change"]
    assert [e["outcome"] for e in played] == ["played"] * len(changes)
