"""``coach exercise [ROUTINE]``: a guided exercise routine with the voice, display, pause keys, session folder and
rehearsal clock of a run."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from coach.cli.options import audio_out_option, check_output, data_dir_option, force_option, voice_option
from coach.text import mmss


@click.command("exercise")
@click.argument("routine_name", metavar="[ROUTINE]", required=False)
@click.option(
    "--sensor",
    metavar="MONIKER",
    help="Optional: a strap to record heart rate (ble:..., virtual:CAPTURE.jsonl or replay:CAPTURE.jsonl).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=100.0),
    default=1.0,
    show_default=True,
    help="Session clock speed, for a rehearsal: 10 runs a 10-minute routine in 1 minute (never counts).",
)
@voice_option
@audio_out_option
@force_option
@data_dir_option
@click.option(
    "--pain",
    "pain_score",
    type=click.FloatRange(0, 10),
    help="Your pain at the end (0-10), instead of being asked: recorded as `coach pain SCORE --when after`.",
)
@click.option("--json", "as_json", is_flag=True, help="At the end print the summary as JSON.")
def exercise(
    routine_name: str | None,
    sensor: str | None,
    speed: float,
    voice: str,
    audio_out: Path | None,
    force: bool,
    data_dir: Path | None,
    pain_score: float | None,
    as_json: bool,
) -> None:
    """A guided exercise routine: "Set 1 of 3: ten bridges", tempo counts, hold countdowns, rest timers, "switch
    sides", and a pain check at the end.

    ROUTINE is a built-in name (`coach routine list`) or your own .toml file; without it, the mobility routine for
    the injury category you gave `coach plan --injury` (gentle-mobility when none is set). The strap is optional:
    with --sensor the session records heart rate. p/r/q + Enter pause, resume and stop; Ctrl-C stops too (the
    folder is still written, exit 130). The rule: no pain during or after. Not medical advice: your physio sets
    your exercises.
    """
    from coach.cli.options import resolve
    from coach.plan.dose import at_level, decide_dose, top_level
    from coach.plan.routine import default_routine, load_routine
    from coach.session.exercise_runner import ExerciseOptions, run_exercise

    root = resolve(data_dir)
    dose_cfg = _dose_config(root)  # a bad progression.toml: one line, before anything starts
    injury = _history(root, None)[0] if routine_name is None else None
    routine = load_routine(routine_name or default_routine(injury))  # a bad routine: one line, first
    history = _history(root, routine.name)[1]
    decision = decide_dose(history, dose_cfg, top=top_level(routine, dose_cfg))
    routine = at_level(routine, decision.level, dose_cfg)
    if audio_out is not None:
        check_output(audio_out, force=force)
    if sensor is not None:
        from sensors.sources.moniker import check_sensor

        check_sensor(sensor)
    if not as_json:
        click.echo(f"Routine: {routine.title} ({len(routine.exercises)} exercises). {routine.purpose}")
        click.echo(f"Dose: notch {decision.level} ({decision.action}). {decision.explain()}")
    opts = ExerciseOptions(
        routine=routine,
        sensor=sensor,
        speed=speed,
        voice=voice,
        audio_out=audio_out,
        data_dir=root,
        echo=click.echo,
        start_fields={"dose_level": decision.level, "dose_action": decision.action},
    )
    result = asyncio.run(run_exercise(opts))
    interrupted = result.end_reason == "interrupted" or result.stopped_by_signal
    score = pain_score
    if score is None and not interrupted and not as_json and sys.stdin.isatty():
        score = _ask_pain()
    if score is not None:
        _log_pain(root, result.session_id, score)
    if as_json:
        click.echo(json.dumps(result.summary, indent=2))
    else:
        _finish(result)
    if interrupted:
        from coach.errors import EXIT_INTERRUPTED

        raise click.exceptions.Exit(EXIT_INTERRUPTED)


def _history(root: Path, routine: str | None) -> tuple[str | None, list[Any]]:
    """The injury category remembered by ``coach plan --injury``, and the dose inputs of ``routine``'s sessions
    so far (None and [] without a database)."""
    from coach.store.database import DB_NAME, Database
    from coach.store.index import exercise_outcomes, sync

    if not (root / DB_NAME).exists():
        return None, []
    with Database.in_dir(root) as db:
        sync(db, root)
        return db.get_setting("injury"), exercise_outcomes(db, routine) if routine else []


def _dose_config(root: Path) -> Any:
    """The ``[exercise]`` table of progression.toml in the data directory (docs/progression.md), else defaults."""
    from coach.errors import read_text_file
    from coach.plan.dose import DoseConfig, dose_config_from_toml
    from coach.store.index import PROGRESSION_CONFIG

    path = root / PROGRESSION_CONFIG
    if not path.exists():
        return DoseConfig()
    return dose_config_from_toml(read_text_file(path), str(path))


def _ask_pain() -> float | None:
    """The pain check at the end, on a terminal: 0-10, Enter to skip."""
    while True:
        text = click.prompt(
            "Pain during or after the routine, 0-10 (the rule: none; Enter to skip)",
            default="",
            show_default=False,
        ).strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if 0 <= value <= 10:
            return value
        click.echo("  a number from 0 to 10, please")


def _log_pain(root: Path, session_id: str, score: float) -> None:
    """Recorded as ``coach pain SCORE --when after --session ID`` would."""
    from coach.store.database import Database
    from coach.store.index import sync

    with Database.in_dir(root) as db:
        sync(db, root)
        db.add_pain(score, "after", session_id=session_id)
    click.echo(f"Logged pain {score:g}/10 after for session {session_id}.")
    if score > 2:
        click.echo(
            "The rule for exercises is no pain during or after: the next session steps the dose back a notch; "
            "if it does not settle, see your physio."
        )


def _finish(result: Any) -> None:
    from coach.store.index import print_session_report

    summary = result.summary
    click.echo("")
    click.echo(f"Session {result.session_id}: {summary.get('end_reason')}, written to {result.folder}")
    cues = summary.get("cues", {})
    click.echo(f"  {cues.get('spoken', 0)} cues, {mmss(summary.get('duration_s') or 0.0)} of session")
    try:
        print_session_report(result.folder)
    except Exception as exc:  # a report problem must not fail a session that went fine
        click.echo(f"  (no report: {exc})")
