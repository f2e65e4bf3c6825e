"""``coach analyze``: cadence, steps and walk/run/still of a recording (csv, Polar Sensor Logger, capture, FIT)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from coach.text import mmss

_MODE_CHAR = {"walk": "w", "run": "R", "still": ".", "unknown": "?"}
_ESTIMATOR_TEXT = {"after-run": "analysed after the run", "live": "the live estimator's timeline"}


@click.command("analyze")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "polar-csv", "capture", "fit", "tcx", "gpx", "phone-csv"]),
    default="auto",
    show_default=True,
    help="Input format; auto looks at the file name and header.",
)
@click.option(
    "--units",
    type=click.Choice(["auto", "g", "mg", "ms2"]),
    default="auto",
    show_default=True,
    help="Accelerometer units of csv input; auto decides from the gravity magnitude.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Print the live (causal) estimator's timeline, exactly what `coach run` saw, instead of the "
    "after-the-run analysis.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def analyze(input_path: str, fmt: str, units: str, live: bool, as_json: bool) -> None:
    """Estimate step cadence, foot contacts and walk/run/still from a recording.

    INPUT is a csv file with the header t,x,y,z (t in seconds), a Polar Sensor Logger ACC export (or its folder
    or zip), a phone accelerometer folder (accelerometer.csv), a coach capture file or a FIT, TCX or GPX walk or run
    (docs/import.md). Cadence is in steps (not strides) per minute. The timeline has one entry
    per second, times in seconds from the first sample. By default it is the after-the-run analysis (windows
    centred on each second, walk/run decided with both sides known); --live prints the live estimator's.
    """
    from coach.errors import InputError
    from coach.signal import GaitAnalysis
    from coach.signal.io import load_recording

    rec = load_recording(input_path, format=fmt, units=units)
    try:
        result = GaitAnalysis(estimator="live" if live else "after-run").analyze(
            rec.t_s, rec.xyz_g, foot_pod=rec.foot_pod, heart_rate=rec.heart_rate
        )
    except ValueError as exc:
        raise InputError(f"{input_path}: {exc}") from exc
    doc = to_json_doc(
        result, rec.format, [*rec.notes, *result.notes_], None if rec.file is None else rec.file.as_json()
    )
    if as_json:
        sys.stdout.write(json.dumps(doc, separators=(",", ":"), allow_nan=False))
        sys.stdout.write("\n")
        return
    click.echo(render_text(doc, input_path))


def to_json_doc(
    result: Any, fmt: str, notes: list[str], file: dict[str, Any] | None = None
) -> dict[str, Any]:
    def num(v: float) -> float | None:
        return None if v != v else round(float(v), 3)

    summary = dict(result.summary_)
    summary["format"] = fmt
    summary["source"] = result.source_
    # which estimator made the timeline: "after-run" or "live"; None for a device's cadence (no estimator)
    summary["estimator"] = result.estimator if result.source_ == "accelerometer" else None
    summary["notes"] = list(notes)
    # what an activity file states about itself (device, sport, its own step total, distance...), or null
    summary["file"] = file
    return {
        "sampling_rate_hz": num(result.sampling_rate_hz_),
        "duration_s": num(result.duration_s_),
        "timeline": [
            {"t": r["t"], "cadence_spm": r["cadence_spm"], "mode": r["mode"], "confidence": r["confidence"]}
            for r in result.timeline_
        ],
        "steps": list(result.steps_),
        "segments": result.segments_,
        "summary": summary,
    }


def _steps_text(s: dict[str, Any]) -> str:
    if s["source"] == "accelerometer":
        return str(s["step_count"])
    file = s.get("file") or {}
    if file.get("steps") is not None:
        return f"{file['steps']} (from the file: {file['steps_note']})"
    return "not measured (device cadence only)"


def render_text(doc: dict[str, Any], name: str) -> str:
    s = doc["summary"]
    lines = [
        f"{name}: {mmss(doc['duration_s'] or 0)} of {s['format']} data"
        + (f" at {doc['sampling_rate_hz']:.1f} Hz" if s["source"] == "accelerometer" else " (device cadence)")
        + ("" if s["source"] != "accelerometer" else f", {_ESTIMATOR_TEXT[s['estimator']]}"),
        f"  walking {mmss(s['seconds_walking'])}"
        + (f" at {s['cadence_walk_spm']:.0f} steps/min" if s["cadence_walk_spm"] else ""),
        f"  running {mmss(s['seconds_running'])}"
        + (f" at {s['cadence_run_spm']:.0f} steps/min" if s["cadence_run_spm"] else ""),
        f"  still   {mmss(s['seconds_still'])}    unknown {mmss(s['seconds_unknown'])}",
        # steps are counted from the accelerometer; a device's cadence alone gives none (not zero)
        f"  steps   {_steps_text(s)}",
        "",
        "Segments:",
    ]
    for seg in doc["segments"]:
        if seg["end"] - seg["start"] < 3 and seg["mode"] in ("unknown", "still"):
            continue
        cad = f"{seg['cadence_spm']:.1f} steps/min" if seg["cadence_spm"] is not None else ""
        lines.append(f"  {mmss(seg['start']):>6} - {mmss(seg['end']):>6}  {seg['mode']:<7} {cad}")
    lines.append("")
    lines.append("Timeline (one character per 10 s: w walk, R run, . still, ? unknown):")
    chars = []
    tl = doc["timeline"]
    for i in range(0, len(tl), 10):
        block = [r["mode"] for r in tl[i : i + 10]]
        chars.append(_MODE_CHAR[max(set(block), key=block.count)])
    text = "".join(chars)
    for i in range(0, len(text), 60):
        lines.append(f"  {mmss(i * 10):>6} {text[i : i + 60]}")
    for note in s["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
