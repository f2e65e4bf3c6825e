"""Render benchmark results: a compact table on stdout and bench/RESULTS.md (always written from code)."""

from __future__ import annotations

import datetime as dt
import math
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import results
from bench.algorithms import TITLES
from bench.metrics import fmt
from bench.signal_bench import DatasetReport, Row


def _cell(row: Row, algo: str) -> str:
    if algo in row.note:
        return row.note[algo]
    v = row.values.get(algo, float("nan"))
    txt = fmt(v, row.digits)
    verdict = row.verdict(algo)
    return " ".join(x for x in (txt, verdict, row.suffix.get(algo, "")) if x)


def markdown_table(rows: Sequence[Row], algos: Sequence[str]) -> str:
    head = ["metric", "target", *[TITLES[a] for a in algos]]
    with_best = len(algos) > 1 and "coach" in algos
    with_live = "coach_live" in algos and "fft_causal" in algos
    if with_best:
        head.append("coach best?")
    if with_live:
        head.append("live best?")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for row in rows:
        cells = [row.metric, row.target, *[_cell(row, a) for a in algos]]
        if with_best:
            cells.append(row.coach_best(algos))
        if with_live:
            cells.append(row.coach_best(algos, live=True))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def text_table(rows: Sequence[Row], algos: Sequence[str]) -> str:
    w0 = max(len(r.metric) for r in rows)
    w0 = min(w0, 66)
    out = [f"{'metric':<{w0}} {'target':>8} " + " ".join(f"{TITLES[a][:21]:>21}" for a in algos)]
    for r in rows:
        out.append(
            f"{r.metric[:w0]:<{w0}} {r.target:>8} " + " ".join(f"{_cell(r, a)[:21]:>21}" for a in algos)
        )
    return "\n".join(out)


def fit_table(fit: Sequence[dict[str, object]]) -> str:
    lines = [
        "| file | seconds compared | median abs diff (spm) | within 1 spm (%) | coach / device |",
        "|---|---|---|---|---|",
    ]
    for r in fit:
        if "error" in r or "skipped" in r:
            lines.append(f"| {r['file']} | {r.get('error') or r.get('skipped')} | | | |")
            continue
        lines.append(
            f"| {r['file']} | {r['seconds_compared']} | {fmt(float(r['median_abs_diff_spm']))} "  # type: ignore[arg-type]
            f"| {fmt(float(r['within_1_spm_pct']), 1)} | {fmt(float(r['median_ratio']), 3)} |"  # type: ignore[arg-type]
        )
    return "\n".join(lines)


#: the coach-only tables of a result: (key in the result, title, lines of explanation)
COACH_TABLES = (
    (
        "variants",
        "robustness: the same recordings, altered (coach after-run)",
        [
            "Acceptance is on other sensors and links; `bench/variants.py` alters the recordings above the way",
            "they differ (rate, mounting angle, clock jitter and drift, lost packets, noise; fixed seeds) and",
            "scores coach again with the same metrics: the after-the-run estimator here, the live one below.",
        ],
    ),
    (
        "variants_live",
        "robustness: the same recordings, altered (coach live)",
        ["The same alterations and metrics, the live (causal) estimator."],
    ),
    (
        "subjects",
        "per person: hexoskin-chest, each subject alone (coach)",
        [
            "One set of parameters for everybody; the spread between people is what an unseen person may see.",
            "-: the subject has no such span (001 did not jog) or no regular device steps there.",
        ],
    ),
)


def _coach_tables(res: dict[str, object]) -> list[tuple[str, list[str], list[str], list[list[str]]]]:
    """The coach-only tables present in ``res``: (title, explanation, header, rows of cells)."""
    out = []
    for key, title, about in COACH_TABLES:
        value = res.get(key)
        if not value:
            continue
        assert isinstance(value, (tuple, list)) and len(value) == 2
        header: Sequence[str] = value[0]
        table: Sequence[Sequence[str]] = value[1]
        out.append((title, about, list(header), [list(r) for r in table]))
    return out


def print_summary(res: dict[str, object]) -> None:
    algos: list[str] = res["algos"]  # type: ignore[assignment]
    for rep in res["reports"]:  # type: ignore[attr-defined]
        assert isinstance(rep, DatasetReport)
        print(f"\n== {rep.name}: {rep.description}")
        print(text_table(rep.rows, algos))
        for a, e in rep.errors.items():
            print(f"   {TITLES[a]} error: {e}")
    speed_rows: list[Row] = res["speed_rows"]  # type: ignore[assignment]
    if speed_rows:
        print("\n== speed and memory (coach)")
        print(text_table(speed_rows, ["coach"]))
        raw = res["speed_raw"]
        assert isinstance(raw, dict)
        for k, v in raw.items():
            if k.endswith("error"):
                print(f"   {k}: {v}")
    for title, _, header, table in _coach_tables(res):
        print(f"\n== {title}: " + " | ".join(header))
        for r in table:
            print("   " + " | ".join(r))
    fit = res.get("fit")
    if isinstance(fit, list) and fit:
        print("\n== garmin-fit: coach analyze FILE.fit vs device cadence")
        print(fit_table(fit))
    print(f"\n(bench took {res['elapsed_s']:.0f} s)")


START = "<!-- signal_bench:start -->"
END = "<!-- signal_bench:end -->"


def write_results(res: dict[str, object], path: Path, argv: Sequence[str]) -> None:
    algos: list[str] = res["algos"]  # type: ignore[assignment]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = " ".join(shlex.quote(a) for a in ["python", "-m", "bench", *argv])
    lines = [
        START,
        "## Signal pipeline: cadence, steps, walk/run/still (issue 3)",
        "",
        "Generated by `bench/signal_bench.py` (do not edit by hand). Regenerate with `make bench`",
        "(= `.venv/bin/python -m bench`) or only this part with `.venv/bin/python -m bench signal`.",
        "",
        f"- date: {now}",
        f"- command: `{cmd}` (run from the repository root; {res['elapsed_s']:.0f} s)",
        f"- machine: {res['machine']}",
        f"- libraries: {res['versions']}",
        "- data: ../shared/data (see each SOURCE.txt; third-party/README.md for the third-party files); labels:",
        "  bench/labels/ (README.md there says how they were made)",
        "",
        'Values are pass/FAIL against the issue 3 targets; "coach best?" says whether coach is better than',
        "every other method run on that data without reference information (FFT baseline, GaitLumbar,",
        "Mobilise-D's mobgap) on that row (yes / tie / no; the ref-bouts oracles are not counted).",
        "Metric definitions: bench/signal_bench.py (module docstring).",
        "The targets are for acceptance on unseen recordings; these are development data.",
    ]
    for rep in res["reports"]:  # type: ignore[attr-defined]
        assert isinstance(rep, DatasetReport)
        lines += ["", f"### {rep.name}", "", rep.description, "", markdown_table(rep.rows, algos)]
        if rep.errors:
            lines += [""]
            lines += [f"- {TITLES[a]} failed: `{e}`" for a, e in rep.errors.items()]
        if rep.details:
            lines += ["", "<details><summary>details per bout / per second / per transition</summary>", ""]
            lines += rep.details
            lines += ["", "</details>"]
    speed_rows: list[Row] = res["speed_rows"]  # type: ignore[assignment]
    if speed_rows:
        raw = res["speed_raw"]
        assert isinstance(raw, dict)
        lines += [
            "",
            "### speed and memory (coach)",
            "",
            "Each in a fresh process. The 1-h CSV is real chest data (all hexoskin subjects resampled to 100 Hz,",
            f"repeated; {fmt(float(raw.get('hour_csv_mb', math.nan)), 0)} MB) written to a temporary directory;",
            "the command is the installed `coach analyze FILE --json`. Streaming: real data resampled to 200 Hz fed to",
            "`StreamingGaitEstimator.feed_acc` in 1-s blocks; CPU = `time.process_time` inside the calls.",
            "",
            markdown_table(speed_rows, ["coach"]),
        ]
        errs = [f"- {k}: `{v}`" for k, v in raw.items() if k.endswith("error")]
        if errs:
            lines += ["", *errs]
        if "hour_runs" in raw:
            runs = ", ".join(f"{x:.3f}" for x in raw["hour_runs"])
            lines += ["", f"- 1-h runs (s): {runs}"]
    fit = res.get("fit")
    if isinstance(fit, list) and fit:
        lines += [
            "",
            "### garmin-fit (sanity: FIT input, no accelerometer)",
            "",
            "`coach analyze FILE.fit --json` vs the file's own cadence record by record",
            "(steps/min = 2 x (cadence + fractional_cadence)); a strides-for-steps slip would read ~50 %.",
            "",
            fit_table(fit),
        ]
    for title, about, header, table in _coach_tables(res):
        lines += [
            "",
            f"### {title}",
            "",
            *about,
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] * len(header)) + "|",
            *["| " + " | ".join(r) + " |" for r in table],
        ]
    notes = res.get("notes")
    if isinstance(notes, list) and notes:
        lines += ["", "### notes", "", *notes]
    lines += [END, ""]
    results.write_marked("\n".join(lines), path)
    print(f"wrote {path}", file=sys.stderr)
