"""coach.session.display: plain throttled lines when not a terminal, a rich panel (<= 4 Hz) on a terminal."""

from __future__ import annotations

import io
from dataclasses import replace
from types import SimpleNamespace

import pytest

from coach.session.display import Display, DisplayState, coerce_state, plain_line
from sensors.clock import FakeClock

RUN = DisplayState(
    interval_name="Run",
    interval_index=2,
    interval_count=9,
    time_left_s=45.2,
    next_interval="Walk 4:00",
    hr_bpm=142,
    cadence_spm=156.4,
    mode="run",
    adherence="ok",
    sensor="connected",
    battery_percent=80,
    elapsed_s=725.0,
    last_cue="Run for one minute",
)


def test_plain_line_names_every_field() -> None:
    assert plain_line(RUN) == (
        "12:05 Run 3/9 0:45 left | next Walk 4:00 | HR 142 | cadence 156 spm | mode run | adherence ok"
        " | sensor connected | battery 80%"
    )
    assert plain_line(DisplayState()) == (
        "--:-- - --:-- left | next - | HR - | cadence - spm | mode - | adherence - | sensor - | battery -"
    )


def test_state_from_mapping_or_object() -> None:
    assert coerce_state({"hr_bpm": 120, "unrelated": 1}) == DisplayState(hr_bpm=120)
    assert coerce_state(SimpleNamespace(mode="walk", other=2)) == DisplayState(mode="walk")
    assert coerce_state(RUN) is RUN


def test_plain_mode_throttles_to_one_line_per_interval_plus_changes() -> None:
    out = io.StringIO()
    clock = FakeClock()
    d = Display(stream=out, tty=False, clock=clock, plain_interval_s=5.0)
    for k in range(40):  # 10 s of updates at 4 Hz
        st = replace(RUN, time_left_s=45.0 - k * 0.25, elapsed_s=725.0 + k * 0.25)
        if k >= 10:  # from t=2.5 s the runner walks in the run interval: a change, printed at once
            st = replace(st, mode="walk", adherence="still walking")
        d.update(st)
        clock.advance(0.25)
    d.close()
    lines = out.getvalue().splitlines()
    # t=0 (first), t=2.5 (mode change), t=7.5 (5 s after), then the final state at close.
    assert len(lines) == 4
    assert "mode run" in lines[0] and "0:45 left" in lines[0]
    assert "mode walk | adherence still walking" in lines[1] and "12:08" in lines[1]
    assert "12:12" in lines[2]  # 725 + 7.5 s
    assert "12:15" in lines[3]
    assert "\x1b[" not in out.getvalue()  # no terminal escapes in plain output


def test_plain_mode_close_does_not_repeat_the_last_line() -> None:
    out = io.StringIO()
    d = Display(stream=out, tty=False, clock=FakeClock())
    d.update(RUN)
    d.close()
    d.update(replace(RUN, hr_bpm=150))  # after close: ignored
    assert out.getvalue().splitlines() == [plain_line(RUN)]


def test_message_goes_above_the_display() -> None:
    out = io.StringIO()
    d = Display(stream=out, tty=False, clock=FakeClock())
    d.message("[cue] Run for one minute")
    assert out.getvalue() == "[cue] Run for one minute\n"


@pytest.mark.parametrize("hz", [4.0, 2.0])
def test_tty_mode_draws_a_rich_panel_at_most_max_refresh_hz(hz: float) -> None:
    out = io.StringIO()
    clock = FakeClock()
    d = Display(stream=out, tty=True, clock=clock, max_refresh_hz=hz, width=70)
    for k in range(100):  # 10 s of updates at 10 Hz
        d.update(replace(RUN, time_left_s=45.0 - k * 0.1))
        clock.advance(0.1)
    d.close()
    assert d.refreshes <= 10 * hz + 1
    assert d.refreshes >= 10 * hz * 0.8
    text = out.getvalue()
    assert "\x1b[" in text
    for needle in (
        "RUN",
        "Walk 4:00",
        "142 bpm",
        "156 steps/min",
        "adherence",
        "connected",
        "80%",
        "Run 3/9",
    ):
        assert needle in text, needle
    assert "0:35 left" in text  # the last state is drawn at close


def test_tty_message_prints_above_the_panel() -> None:
    out = io.StringIO()
    d = Display(stream=out, tty=True, clock=FakeClock(), width=70)
    d.update(RUN)
    d.message("[cue] Walk for four minutes")
    d.close()
    assert "[cue] Walk for four minutes" in out.getvalue()
