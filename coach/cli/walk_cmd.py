"""``coach walk``: a walk-only session with the strap (a moving day, or a step of the walking base)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from coach.cli.options import (
    audio_out_option,
    check_output,
    data_dir_option,
    force_option,
    sensor_option,
    voice_option,
)
from coach.text import mmss

#: Seconds of warning before each part of the walk changes ("Walk in ten seconds."), as `coach run`'s default.
WALK_HEADS_UP_S = 10.0


@click.command("walk")
@sensor_option("ble", "virtual", "replay")
@click.option(
    "--step",
    metavar="W1..W4",
    help="The walking-base step to walk (default: the one `coach plan` gives, else the last one).",
)
@click.option(
    "--minutes",
    "brisk_minutes",
    type=click.FloatRange(min=1.0, max=240.0),
    help="Brisk minutes to walk instead of a walking-base step (a moving day).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=100.0),
    default=1.0,
    show_default=True,
    help="Session clock speed (replay: and virtual: only; a rehearsal never counts).",
)
@voice_option
@audio_out_option
@force_option
@data_dir_option
@click.option(
    "--loop",
    is_flag=True,
    help="replay:/virtual: start the recording again when it ends (until the walk ends).",
)
@click.option("--json", "as_json", is_flag=True, help="At the end print the summary as JSON.")
def walk(
    sensor: str,
    step: str | None,
    brisk_minutes: float | None,
    speed: float,
    voice: str,
    audio_out: Path | None,
    force: bool,
    data_dir: Path | None,
    loop: bool,
    as_json: bool,
) -> None:
    """A walk with the strap: an easy start, the brisk minutes, an easy finish.

    It records the duration, the minutes at brisk cadence (walking at 100 steps/min or more: Tudor-Locke et al.
    2018, 2019) and heart rate, in a session folder like a run. Walks count towards the weekly moving minutes and,
    in a programme with a walking base (back-pain: W1-W4, 15/20/25/30 brisk minutes), towards the gate before
    stage 1: ready after 30 brisk minutes twice with pain 0-2/10 during and after, settled by the next morning
    (docs/walking.md). Log the pain with `coach pain`. Ctrl-C ends the walk early (exit 130).
    """
    from coach.errors import InputError
    from coach.plan.moving import WALK, walk_plan
    from coach.plan.progression import WalkingBaseDecision
    from coach.session.runner import SessionOptions, run_session
    from coach.store.database import Database
    from coach.store.index import programme_in_use, walking_base_for
    from coach.store.record import resolve_data_dir

    if step is not None and brisk_minutes is not None:
        raise click.UsageError("give --step or --minutes, not both")
    root = resolve_data_dir(data_dir)
    with Database.in_dir(root) as db:
        programme = programme_in_use(db)
        gate: WalkingBaseDecision | None = walking_base_for(db, programme)
    base = programme.walking_base
    step_name: str | None = None
    if step is not None:
        if base is None:
            raise InputError(
                f"programme {programme.name!r} has no walking base: give --minutes instead of --step"
            )
        try:
            number = base.step_number(step)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        step_name, minutes = base.step_name(number), base.brisk_minutes[number - 1]
    elif brisk_minutes is not None:
        minutes = brisk_minutes
    elif gate is not None:
        step_name, minutes = gate.step_name, gate.target_min
    elif base is not None:  # past the walking base: a moving day at its last step
        minutes = base.ready_minutes
    else:
        raise click.UsageError("give --minutes (the programme has no walking base to choose from)")
    plan = walk_plan(minutes, step_name=step_name)
    if audio_out is not None:
        check_output(audio_out, force=force)
    opts = SessionOptions(
        sensor=sensor,
        speed=speed,
        voice=voice,
        audio_out=audio_out,
        data_dir=data_dir,
        heads_up_s=WALK_HEADS_UP_S,
        loop=loop,
        plan=plan,
        echo=click.echo,
        start_fields={
            "programme": None,
            "stage": None,
            "activity": WALK,
            "walk_step": step_name,
            "brisk_minutes_planned": minutes,
            "walking_base_of": programme.name if step_name else None,
        },
    )
    result = asyncio.run(run_session(opts))
    if as_json:
        click.echo(json.dumps(result.summary, indent=2))
    else:
        click.echo("")
        click.echo(
            f"Walk {result.session_id}: {result.summary.get('end_reason')}, written to {result.folder}"
        )
        _report(result.folder, minutes)
    if result.end_reason == "interrupted" or result.stopped_by_signal:
        from coach.errors import EXIT_INTERRUPTED

        raise click.exceptions.Exit(EXIT_INTERRUPTED)


def walk_lines(report: Mapping[str, Any], target_min: float) -> list[str]:
    """The end-of-walk lines from the report model: time, brisk minutes against the target, heart rate."""
    s, m = report["session"], report["summary"]
    brisk = (m.get("brisk_walk_s") or 0.0) / 60.0
    hr = m.get("hr_mean_bpm")
    has_cadence = m.get("cadence_walk_spm") is not None or m.get("cadence_run_spm") is not None
    brisk_text = (
        f"{brisk:.0f} min at brisk cadence (100 steps/min or more; aim {target_min:g})"
        if has_cadence
        else "no cadence recorded, so no brisk minutes"
    )
    cadence = m.get("cadence_walk_spm")
    return [
        f"  {mmss(s.get('duration_s') or 0.0)} walked; {brisk_text}"
        + (f"; walking cadence {cadence:.0f} steps/min" if cadence is not None else "")
        + (f"; heart rate mean {hr:.0f}, max {m.get('hr_max_bpm') or 0:.0f} bpm" if hr is not None else "")
    ]


def _report(folder: Path, target_min: float) -> None:
    """Index the walk, print its lines, the walking-base status and the pain prompt (a report problem is said, not
    fatal: the walk is recorded)."""
    from coach.store.database import Database
    from coach.store.index import print_session_report, programme_in_use, walking_base_for

    try:
        print_session_report(folder, intro=lambda report: walk_lines(report, target_min))
        root = Path(folder).resolve().parent.parent
        with Database.in_dir(root) as db:
            gate = walking_base_for(db, programme_in_use(db))
    except Exception as exc:  # the walk is written; the report is a courtesy
        click.echo(f"  (no report: {exc})")
        return
    if gate is not None:
        state = (
            "ready for stage 1"
            if gate.ready
            else f"next {gate.step_name} ({gate.target_min:g} brisk minutes)"
        )
        click.echo(f"  walking base: {state}. {gate.explain()}")
