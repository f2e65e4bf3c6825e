"""The live session display: a rich panel on a terminal, plain throttled lines otherwise.

The runner calls :meth:`Display.update` with the session state as often as it likes; the display decides what to
draw: on a TTY a :class:`rich.live.Live` panel refreshed at most ``max_refresh_hz`` times a second (no background
thread: refreshes happen inside ``update``); when stdout is a pipe or a file (CI, ``coach demo | tee``), one plain
line every ``plain_interval_s`` seconds plus one at once whenever the interval, the detected mode, the adherence or
the sensor state changes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TextIO

from coach.text import hmmss
from sensors.clock import Clock, MonotonicClock


@dataclass(frozen=True)
class DisplayState:
    """What the display shows. Every field is optional (None = unknown / not applicable)."""

    interval_name: str | None = None  # "Warm-up walk", "Run", "Walk", "Cool-down"
    interval_index: int | None = None  # 0-based
    interval_count: int | None = None
    time_left_s: float | None = None
    next_interval: str | None = None  # e.g. "Walk 4:00"
    hr_bpm: int | None = None
    cadence_spm: float | None = None  # steps per minute
    mode: str | None = None  # detected: "walk", "run", "still"
    adherence: str | None = None  # e.g. "ok", "still walking", "ease back"
    sensor: str | None = None  # e.g. "connected", "lost", "reconnecting"
    battery_percent: int | None = None
    elapsed_s: float | None = None
    last_cue: str | None = None
    paused: bool = False


_FIELDS = tuple(f.name for f in fields(DisplayState))


def coerce_state(state: Any) -> DisplayState:
    """A :class:`DisplayState` from a DisplayState, a mapping, or any object with attributes of the same names."""
    if isinstance(state, DisplayState):
        return state
    if isinstance(state, Mapping):
        return DisplayState(**{k: state[k] for k in _FIELDS if k in state})
    return DisplayState(**{k: getattr(state, k) for k in _FIELDS if hasattr(state, k)})


def _interval_label(st: DisplayState) -> str:
    name = st.interval_name or "-"
    if st.interval_index is not None:
        count = f"/{st.interval_count}" if st.interval_count else ""
        return f"{name} {st.interval_index + 1}{count}"
    return name


def _or_dash(value: object, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def plain_line(st: DisplayState) -> str:
    """One line of the plain display, e.g. ``12:05 Run 3/9 0:45 left | next Walk 4:00 | HR 142 | ...``."""
    parts = [
        f"{hmmss(st.elapsed_s)} {_interval_label(st)} {hmmss(st.time_left_s)} left"
        + (" (paused)" if st.paused else ""),
        f"next {st.next_interval or '-'}",
        f"HR {_or_dash(st.hr_bpm)}",
        f"cadence {_or_dash(None if st.cadence_spm is None else round(st.cadence_spm))} spm",
        f"mode {st.mode or '-'}",
        f"adherence {st.adherence or '-'}",
        f"sensor {st.sensor or '-'}",
        f"battery {_or_dash(st.battery_percent, '{}%')}",
    ]
    return " | ".join(parts)


def render_panel(st: DisplayState) -> Any:
    """The rich renderable for a TTY."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="left", min_width=18)
    grid.add_column(justify="left")
    head = Text((st.interval_name or "-").upper(), style="bold cyan")
    if st.paused:
        head.append("  (paused)", style="yellow")
    grid.add_row(head, Text(f"{hmmss(st.time_left_s)} left", style="bold"))
    grid.add_row("next", st.next_interval or "-")
    hr = Text(f"{_or_dash(st.hr_bpm)} bpm")
    cadence = Text(f"{_or_dash(None if st.cadence_spm is None else round(st.cadence_spm))} steps/min")
    grid.add_row(Text("HR ").append(hr), Text("cadence ").append(cadence))
    adherence_style = "green" if (st.adherence or "").lower() in ("ok", "on plan") else "yellow"
    grid.add_row(
        Text("mode ").append(st.mode or "-", style="bold"),
        Text("adherence ").append(st.adherence or "-", style=adherence_style),
    )
    sensor_style = "green" if (st.sensor or "").lower() in ("connected", "ok") else "red"
    grid.add_row(
        Text("sensor ").append(st.sensor or "-", style=sensor_style),
        f"battery {_or_dash(st.battery_percent, '{}%')}",
    )
    if st.last_cue:
        grid.add_row("last cue", Text(f'"{st.last_cue}"', style="italic"))
    title = f"coach - {_interval_label(st)}"
    return Panel(grid, title=title, subtitle=f"elapsed {hmmss(st.elapsed_s)}", expand=False)


class Display:
    """Live session display; see the module docstring.

    ``stream`` defaults to stdout; ``tty`` defaults to ``stream.isatty()``. ``clock`` (real time by default) throttles
    refreshes and plain lines; it is wall time, not session time, because it paces what a person reads.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Clock | None = None,
        plain_interval_s: float = 5.0,
        max_refresh_hz: float = 4.0,
        width: int | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock or MonotonicClock()
        self.plain_interval_s = plain_interval_s
        self.min_refresh_s = 1.0 / max_refresh_hz
        self.width = width
        self.refreshes = 0
        self.lines_written = 0
        self._state: DisplayState | None = None
        self._printed: DisplayState | None = None
        self._last_out: float | None = None
        self._last_key: tuple[object, ...] | None = None
        self._live: Any = None
        self._closed = False

    @staticmethod
    def _change_key(st: DisplayState) -> tuple[object, ...]:
        return (st.interval_index, st.interval_name, st.mode, st.adherence, st.sensor, st.paused)

    def update(self, state: Any) -> None:
        """Show ``state`` (a :class:`DisplayState`, a mapping or an object with those attribute names)."""
        if self._closed:
            return
        st = coerce_state(state)
        self._state = st
        now = self.clock.now()
        if self.tty:
            self._update_live(st, now)
            return
        key = self._change_key(st)
        due = self._last_out is None or now - self._last_out >= self.plain_interval_s
        if due or key != self._last_key:
            self._write_line(st, now)
        self._last_key = key

    def _write_line(self, st: DisplayState, now: float) -> None:
        self.stream.write(plain_line(st) + "\n")
        self.stream.flush()
        self._printed = st
        self.lines_written += 1
        self._last_out = now

    def _update_live(self, st: DisplayState, now: float) -> None:
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream, force_terminal=True, width=self.width)
            self._live = Live(
                render_panel(st),
                console=console,
                auto_refresh=False,
                # Stray prints and log lines go above the panel instead of through it (only for the real stdout).
                redirect_stdout=self.stream is sys.stdout,
                redirect_stderr=self.stream is sys.stdout,
            )
            self._live.start(refresh=True)
            self.refreshes += 1
            self._last_out = now
            return
        self._live.update(render_panel(st), refresh=False)
        if self._last_out is None or now - self._last_out >= self.min_refresh_s:
            self._live.refresh()
            self.refreshes += 1
            self._last_out = now

    def message(self, text: str) -> None:
        """Print a line (a cue as text, a notice) above the live panel, or as a plain line."""
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Draw the last state and release the terminal."""
        if self._closed:
            return
        self._closed = True
        if self._live is not None:
            if self._state is not None:
                self._live.update(render_panel(self._state), refresh=True)
            self._live.stop()
            self._live = None
        elif self._state is not None and self._state != self._printed:  # the final state was not printed yet
            self._write_line(self._state, self.clock.now())
