"""``coach run`` (a coached session) and ``coach demo`` (the same product path on a bundled real recording)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from coach.cli.options import (
    audio_out_option,
    check_output,
    data_dir_option,
    force_option,
    no_pair_option,
    sensor_option,
    voice_option,
)
from coach.text import mmss

#: The demo: stage 1 of back-pain with its walks shortened, the session clock DEMO_SPEED times the wall clock.
DEMO_PROGRAMME = "back-pain"
DEMO_STAGE = 1
DEMO_WARMUP_S = 60.0  # the 5-minute warm-up walk is 1:00 in the demo
DEMO_WALK_S = (
    60.0  # every walk of stage 1 is 1:00 in the demo (the shortest with an HR recovery); runs keep 1:00
)
DEMO_SPEED = 8.0
DEMO_HEADS_UP_S = 20.0
DEMO_RECORDING = "chest-walk-jog-walk-hexoskin-005.jsonl"


@click.command("run")
@sensor_option("ble", "virtual", "replay")
@click.option(
    "--programme", "programme_name", required=True, metavar="NAME|FILE", help="Built-in name or .toml."
)
@click.option(
    "--stage", type=click.IntRange(min=1), default=1, show_default=True, help="Stage to run (1-based)."
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=100.0),
    default=1.0,
    show_default=True,
    help="Session clock speed (replay: and virtual: only): 10 runs a 30-minute session in 3 minutes.",
)
@voice_option
@audio_out_option
@force_option
@data_dir_option
@click.option(
    "--heads-up",
    "heads_up_s",
    type=click.FloatRange(min=0.0, max=120.0),
    default=10.0,
    show_default=True,
    help="Seconds of warning before each change (0 = none).",
)
@click.option(
    "--countdown/--no-countdown", default=False, show_default=True, help="Say 3-2-1 before changes."
)
@click.option(
    "--hr-ceiling", "hr_ceiling_bpm", type=click.IntRange(60, 230), help="Heart-rate ceiling (bpm)."
)
@click.option(
    "--cadence-baseline",
    "cadence_baseline_spm",
    type=click.FloatRange(60, 240),
    help="Your own running cadence (steps/min); default: measured in the first running minute.",
)
@click.option(
    "--loop",
    is_flag=True,
    help="replay:/virtual: start the recording again when it ends (until the plan ends).",
)
@no_pair_option
@click.option("--json", "as_json", is_flag=True, help="At the end print the summary as JSON.")
def run(
    sensor: str,
    programme_name: str,
    stage: int,
    speed: float,
    voice: str,
    audio_out: Path | None,
    force: bool,
    data_dir: Path | None,
    heads_up_s: float,
    countdown: bool,
    hr_ceiling_bpm: int | None,
    cadence_baseline_spm: float | None,
    loop: bool,
    no_pair: bool,
    as_json: bool,
) -> None:
    """Run a coached walk/run session: the coach calls every change and checks you follow it.

    Ctrl-C or SIGTERM ends the session early; its folder is still written (exit 130). Not medical advice: follow
    your physio.
    """
    from coach.plan.programme import load_programme
    from coach.session.runner import SessionOptions, run_session

    plan = load_programme(programme_name).plan(stage)  # bad programme: one line, before anything starts
    if audio_out is not None:
        check_output(
            audio_out, force=force
        )  # an existing tape is kept unless --force, before anything starts
    opts = SessionOptions(
        sensor=sensor,
        programme=programme_name,
        stage=stage,
        speed=speed,
        voice=voice,
        audio_out=audio_out,
        data_dir=data_dir,
        heads_up_s=heads_up_s,
        countdown=countdown,
        hr_ceiling_bpm=hr_ceiling_bpm,
        cadence_baseline_spm=cadence_baseline_spm,
        loop=loop,
        pair=not no_pair,
        plan=plan,
        echo=click.echo,
    )
    result = asyncio.run(run_session(opts))
    _finish(result, as_json=as_json)


def demo_recording() -> Path:
    """The bundled real walk/jog/walk chest recording (a copy of fixtures/ shipped as package data)."""
    from importlib import resources

    from coach.errors import InputError

    path = Path(str(resources.files("coach") / "data" / "demo" / DEMO_RECORDING))
    if not path.is_file():
        raise InputError(f"the demo recording {path} is missing; reinstall coach")
    return path


def demo_plans() -> tuple[Any, Any]:
    """(the programme stage, the demo's compressed plan): runs kept, the warm-up and the walks shortened."""
    from dataclasses import replace

    from coach.plan.programme import load_programme

    stage_plan = load_programme(DEMO_PROGRAMME).plan(DEMO_STAGE)
    intervals = []
    start = 0.0
    for interval in stage_plan.intervals:
        if interval.activity == "run":
            duration = interval.duration_s
        else:
            duration = DEMO_WARMUP_S if interval.label == "warm-up" else DEMO_WALK_S
        intervals.append(replace(interval, duration_s=duration, start_s=start))
        start += duration
    plan = replace(
        stage_plan, intervals=tuple(intervals), stage_title=stage_plan.stage_title + " (demo: short walks)"
    )
    return stage_plan, plan


def demo_wall_s(speed: float = DEMO_SPEED) -> float:
    """Wall seconds the demo's session takes: its compressed plan at ``speed`` (start-up not counted)."""
    return float(demo_plans()[1].duration_s) / speed


def demo_help() -> str:
    """``coach demo --help``: the duration comes from the plan and the speed, so it cannot drift from them."""
    _, plan = demo_plans()
    return (
        f"A coached session of about {demo_wall_s():.0f} s (plus a few seconds to start): stage {DEMO_STAGE} of "
        f"{DEMO_PROGRAMME}, its walks shortened to {mmss(plan.duration_s)} of session, run {DEMO_SPEED:g}x "
        "faster than real time on a bundled real walk/jog recording.\n\n"
        "The real product path (replay -> signal -> session engine -> voice -> session folder), time-compressed; "
        "it says at the start exactly what was compressed. A demo is a rehearsal: it is kept in the history but "
        "never counts towards progression."
    )


class DemoCommand(click.Command):
    """``coach demo``, whose help text is computed when it is shown (:func:`demo_help`)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.help = demo_help()
        super().format_help_text(ctx, formatter)


def demo_options(
    *,
    voice: str,
    audio_out: Path | None,
    data_dir: Path | None,
    speed: float = DEMO_SPEED,
    prefer_virtual: bool = True,
    echo: Any = print,
) -> tuple[Any, str]:
    """The demo's session options and the line that says honestly what was compressed."""
    from coach.session.runner import SessionOptions

    stage_plan, plan = demo_plans()
    walks = {i.duration_s for i in stage_plan.intervals if i.activity == "walk" and i.label != "warm-up"}
    warmup = next((i.duration_s for i in stage_plan.intervals if i.label == "warm-up"), 0.0)
    runs = {i.duration_s for i in stage_plan.intervals if i.activity == "run"}
    recording = demo_recording()
    note = (
        f"Demo: stage {DEMO_STAGE} of {DEMO_PROGRAMME} ({stage_plan.stage_title}, "
        f"{mmss(stage_plan.duration_s)}) compressed: warm-up {mmss(warmup)} -> {mmss(DEMO_WARMUP_S)}, walks "
        f"{', '.join(mmss(w) for w in sorted(walks))} -> {mmss(DEMO_WALK_S)}, runs kept at "
        f"{', '.join(mmss(r) for r in sorted(runs))}; the session clock runs {speed:g}x faster, so "
        f"{mmss(plan.duration_s)} of session take about {plan.duration_s / speed:.0f} s. "
        f"The sensor is a real {mmss(300)} walk/jog/walk chest recording ({DEMO_RECORDING}, Hexoskin subject 005, "
        f"MIT), replayed and looped; it does not follow the plan, so expect adherence prompts."
    )
    import importlib.util

    virtual = prefer_virtual and importlib.util.find_spec("bumble") is not None
    how = (
        "streamed by the virtual strap (bumble) over a GATT link to the BLE client"
        if virtual
        else "replayed (install coach[virtual] to stream it through the virtual strap)"
    )
    note = note.replace("replayed and looped", f"{how}, and looped")
    opts = SessionOptions(
        sensor=f"{'virtual' if virtual else 'replay'}:{recording}",
        programme=DEMO_PROGRAMME,
        stage=DEMO_STAGE,
        speed=speed,
        voice=voice,
        audio_out=audio_out,
        data_dir=data_dir,
        heads_up_s=DEMO_HEADS_UP_S,
        loop=True,
        demo=True,
        note=note,
        plan=plan,
        echo=echo,
    )
    return opts, note


@click.command("demo", cls=DemoCommand)
@voice_option
@audio_out_option
@force_option
@data_dir_option
def demo(voice: str, audio_out: Path | None, force: bool, data_dir: Path | None) -> None:
    """A short coached session on a bundled real walk/jog recording (the text `--help` shows is demo_help())."""
    from coach.session.runner import run_session

    if audio_out is not None:
        check_output(
            audio_out, force=force
        )  # an existing tape is kept unless --force, before anything starts
    opts, note = demo_options(voice=voice, audio_out=audio_out, data_dir=data_dir, echo=click.echo)
    click.echo(note)
    result = asyncio.run(run_session(opts))
    _finish(result, as_json=False)


def _finish(result: Any, *, as_json: bool) -> None:
    summary = result.summary
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        if result.end_reason == "interrupted" or result.stopped_by_signal:
            from coach.errors import EXIT_INTERRUPTED

            raise click.exceptions.Exit(EXIT_INTERRUPTED)
        return
    click.echo("")
    click.echo(f"Session {result.session_id}: {summary.get('end_reason')}, written to {result.folder}")
    cues = summary.get("cues", {})
    click.echo(
        f"  {len(summary.get('intervals', []))} intervals, {cues.get('spoken', 0)} cues "
        f"({', '.join(f'{k} {v}' for k, v in sorted(cues.get('by_type', {}).items()))}), "
        f"wall time {result.wall_duration_s:.0f} s"
    )
    baseline = summary.get("cadence_baseline_spm")
    if not _report(result, lambda report: _plan_lines(_from_report(report), baseline)):
        # no report (it failed, and said why): the engine's live tally, which lags by the detection delay
        for line in _plan_lines(_from_summary(summary), baseline):
            click.echo(line)
    if (
        result.end_reason == "interrupted" or result.stopped_by_signal
    ):  # Ctrl-C, SIGTERM: docs/raspberry-pi.md
        from coach.errors import EXIT_INTERRUPTED

        raise click.exceptions.Exit(EXIT_INTERRUPTED)


Figures = tuple[Any, Any, list[tuple[int, str, float, Any, Any, Any]]]


def _from_report(report: Any) -> Figures:
    """The end-of-run figures from the report model: each detected second counted by its own time, the same
    numbers as `coach report` (the engine's live tally lags by the detection delay)."""
    m = report["summary"]
    rows = [
        (
            iv["index"],
            iv["activity"],
            iv["planned_duration_s"],
            iv.get("compliant_share"),
            iv.get("time_to_comply_s"),
            iv.get("cadence_mean_spm"),
        )
        for iv in report["intervals"]
    ]
    return m.get("adherence"), m.get("time_to_comply_median_s"), rows


def _from_summary(summary: Any) -> Figures:
    """The end-of-run figures from summary.json when the report failed: its intervals are recomputed by the same
    ``interval_stats`` over the same seconds as the report, so the cadence is the report's mean too."""
    rows = [
        (
            iv["index"],
            iv["activity"],
            iv["planned_duration_s"],
            iv.get("adherence"),
            iv.get("time_to_comply_s"),
            iv.get("cadence_mean_spm"),
        )
        for iv in summary.get("intervals", [])
    ]
    return summary.get("adherence"), summary.get("time_to_comply_median_s"), rows


def _plan_lines(figures: Figures, baseline: float | None) -> list[str]:
    adherence, comply, rows = figures
    lines = [
        "  followed the plan "
        + (f"{adherence * 100:.0f} % of the time" if adherence is not None else "(no gait data)")
        + (f"; median time to follow a change {comply:.0f} s" if comply is not None else "")
        + (f"; running cadence baseline {baseline:.0f} steps/min" if baseline else "")
    ]
    for index, activity, planned_s, adh, ttc, cad in rows:
        lines.append(
            f"    {index + 1:>2}. {activity:<4} {mmss(planned_s)}"
            f"  followed {'-' if adh is None else f'{adh * 100:3.0f} %'}"
            f"  in {'never' if ttc is None else f'{ttc:.0f} s'}"
            f"  cadence {'-' if cad is None else f'{cad:.0f}'}"
        )
    return lines


def _report(result: Any, intro: Callable[[Any], list[str]]) -> bool:
    """Index the session and print ``intro(report)``, the next step and the pain prompt; False if no report."""
    from coach.store.index import print_session_report

    try:
        print_session_report(result.folder, intro=intro)
    except Exception as exc:  # a report problem must not fail a session that went fine
        click.echo(f"  (no report: {exc})")
        return False
    return True
