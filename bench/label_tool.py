"""Propose activity labels for the hexoskin chest recordings (the first pass of bench/labels/hexoskin.json).

    .venv/bin/python -m bench.label_tool 003            # print per-second features and proposed spans
    .venv/bin/python -m bench.label_tool --all --json   # proposals for every subject as JSON

The dataset has no activity labels (see hexoskin-chest/SOURCE.txt). A span is proposed only where the
signal leaves no doubt, from three independent cues over a centred 3-s window of |a|:
- still: standard deviation of |a| < 0.04 g (a person standing or sitting still);
- run: |a| drops below 0.3 g within the window (flight phase: the chest is in free fall between
  contacts, impossible in walking where one foot is always down) AND standard deviation > 0.4 g AND the
  device's step rate (step.csv) >= 125 steps/min;
- walk: standard deviation >= 0.1 g, no flight phase, device step rate 70-135 steps/min and the device's
  cadence channel (cadence.wav) > 0 (the device itself sees steady gait);
everything else (starts and stops, turning, fidgeting, doubtful stretches) stays unlabelled. Spans shorter
than 5 s (still, run) or 8 s (walk) are dropped. The proposals were then checked by eye against the
printed features, and edited where needed; every edit is recorded in hexoskin.json with its reason.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from bench.datasets import DATA, FloatArray, read_hexoskin_acc

MIN_LEN_S = {"still": 5, "run": 5, "walk": 8}
LABELS_JSON = Path(__file__).resolve().parent / "labels" / "hexoskin.json"

# Edits made after looking at the proposals (subject -> (start, end, label, what and why)).
EDITS: dict[str, list[tuple[float, float, str, str]]] = {
    "005": [
        (
            443.0,
            450.0,
            "run",
            "removed: a 7-s burst during the sidewalk part (device cadence 78 -> 199 spm within 5 s, then back to "
            "walking); too short and too odd to call",
        )
    ],
}
NOTES = {"001": "no jogging in this recording (device cadence never above 130 spm)"}


def features(subject: str) -> dict[str, FloatArray]:
    """Per-second features (index k = second [k, k+1)) of one subject."""
    from scipy.io import wavfile

    folder = DATA / "hexoskin-chest" / f"{subject}hexoskin"
    _, xyz, fs = read_hexoskin_acc(folder)
    mag = np.linalg.norm(xyz, axis=1)
    _, cad = wavfile.read(folder / "cadence.wav")
    steps = np.loadtxt(folder / "step.csv", delimiter=",", skiprows=1, ndmin=2)[:, 0]
    n = int(len(mag) // fs)
    sd = np.zeros(n)
    mn = np.zeros(n)
    rate = np.zeros(n)
    for k in range(n):
        seg = mag[int(max(0, k - 1) * fs) : int(min(n, k + 2) * fs)]
        sd[k] = seg.std()
        mn[k] = seg.min()
        ev = steps[(steps >= k - 3) & (steps < k + 4)]
        rate[k] = 60.0 * (ev.size - 1) / (ev[-1] - ev[0]) if ev.size >= 3 else 0.0
    devcad = np.zeros(n)
    m = min(n, len(cad))
    devcad[:m] = np.asarray(cad[:m], dtype=float)
    return {"sd": sd, "min": mn, "rate": rate, "devcad": devcad}


def classify(f: dict[str, FloatArray]) -> list[str]:
    """Per-second class by the rules in the module docstring ("" = no label)."""
    out: list[str] = []
    for sd, mn, rate, dc in zip(f["sd"], f["min"], f["rate"], f["devcad"], strict=True):
        if sd < 0.04:
            out.append("still")
        elif mn < 0.3 and sd > 0.4 and rate >= 125:
            out.append("run")
        elif sd >= 0.1 and mn >= 0.3 and 70 <= rate <= 135 and dc > 0:
            out.append("walk")
        else:
            out.append("")
    return out


def spans(classes: list[str]) -> list[dict[str, object]]:
    """Runs of one class, minimum lengths applied."""
    out: list[dict[str, object]] = []
    k = 0
    while k < len(classes):
        j = k
        while j < len(classes) and classes[j] == classes[k]:
            j += 1
        if classes[k] and j - k >= MIN_LEN_S[classes[k]]:
            out.append({"start": float(k), "end": float(j), "label": classes[k]})
        k = j
    return out


def transitions(spans_: list[dict[str, object]], steps_s: FloatArray) -> list[dict[str, object]]:
    """Change times between consecutive spans of different labels, from the device's steps.

    - to still (gap <= 10 s): 0.5 s after the last device step before the still span (walkers slow down over a
      few steps before they stop, with longer and irregular intervals that the device still logs now and then,
      but its regular cadence ends earlier: the chest signal shows steps up to that last logged one);
    - from still (gap <= 10 s): 0.5 s before the first device step that starts 4 steps each within 1 s;
    - walk <-> run (gap <= 3 s): the middle of the gap;
    clipped to the gap. Other pairs (e.g. run -> walk with the treadmill stopped in between) are skipped.
    """
    out: list[dict[str, object]] = []
    for a, b in itertools.pairwise(spans_):
        a_end, b_start = float(a["end"]), float(b["start"])  # type: ignore[arg-type]
        la, lb = str(a["label"]), str(b["label"])
        gap = b_start - a_end
        if la == lb or gap > 10.0:
            continue
        t: float | None = None
        ev = steps_s[(steps_s >= a_end - 3.0) & (steps_s <= b_start + 3.0)]
        if lb == "still":
            before = ev[ev <= b_start]
            t = (float(before[-1]) + 0.5) if before.size else a_end
            rule = "last device step + 0.5 s"
        elif la == "still":
            starts = [
                ev[i] for i in range(ev.size - 3) if ev[i] >= a_end and np.all(np.diff(ev[i : i + 4]) <= 1.0)
            ]
            t = (starts[0] - 0.5) if starts else b_start
            rule = "first of 4 regular device steps - 0.5 s"
        elif gap <= 3.0:
            t = a_end + gap / 2.0
            rule = "middle of the gap"
        else:
            continue
        t = float(min(max(t, a_end), b_start))
        out.append({"t": round(t, 2), "from": la, "to": lb, "rule": rule})
    return out


def build_labels(subjects: list[str]) -> dict[str, object]:
    """The content of bench/labels/hexoskin.json: proposals, edits applied, transitions."""
    doc: dict[str, object] = {
        "about": (
            "Activity labels for ../shared/data/hexoskin-chest (no labels ship with the data). Times in seconds "
            "from the first accelerometer sample. Spans: walk | run | still; seconds not covered are unlabelled "
            "(transitions, doubtful stretches) and are not scored. Transitions: change times used for latency. "
            "Generated by `python -m bench.label_tool --all --write` (rules in bench/label_tool.py and "
            "bench/labels/README.md); edits listed per subject."
        ),
        "rules": {
            "still": "sd(|a|) < 0.04 g over a centred 3-s window, >= 5 s",
            "run": "min |a| < 0.3 g (flight phase) and sd > 0.4 g and device step rate >= 125 spm, >= 5 s",
            "walk": "sd >= 0.1 g, min |a| >= 0.3 g, device step rate 70-135 spm, device cadence > 0, >= 8 s",
            "transitions": (transitions.__doc__ or "").strip(),
        },
    }
    subjects_doc: dict[str, object] = {}
    for s in subjects:
        edits = EDITS.get(s, [])
        kept: list[dict[str, object]] = []
        notes: list[str] = []
        for sp in spans(classify(features(s))):
            hit = [e for e in edits if (e[0], e[1], e[2]) == (sp["start"], sp["end"], sp["label"])]
            if hit:
                notes.append(f"{hit[0][0]:.0f}-{hit[0][1]:.0f} {hit[0][2]} {hit[0][3]}")
            else:
                kept.append(sp)
        steps = np.loadtxt(
            DATA / "hexoskin-chest" / f"{s}hexoskin" / "step.csv", delimiter=",", skiprows=1, ndmin=2
        )[:, 0]
        entry: dict[str, object] = {"edits": notes, "segments": kept, "transitions": transitions(kept, steps)}
        if s in NOTES:
            entry["note"] = NOTES[s]
        subjects_doc[s] = entry
    doc["subjects"] = subjects_doc
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.label_tool", description=__doc__.splitlines()[0])
    p.add_argument("subjects", nargs="*")
    p.add_argument("--all", action="store_true", help="every hexoskin subject")
    p.add_argument("--json", action="store_true", help="print proposals as JSON")
    p.add_argument("--transitions", action="store_true", help="with --json: change times instead of spans")
    p.add_argument("--write", action="store_true", help=f"write {LABELS_JSON.name} (edits applied)")
    args = p.parse_args(argv)
    subjects = args.subjects
    if args.all:
        subjects = sorted(d.name[:3] for d in (DATA / "hexoskin-chest").glob("*hexoskin"))
    if args.write:
        doc = build_labels(subjects)
        LABELS_JSON.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {LABELS_JSON}")
        return 0
    result: dict[str, list[dict[str, object]]] = {}
    trans: dict[str, list[dict[str, object]]] = {}
    for s in subjects:
        f = features(s)
        cls = classify(f)
        result[s] = spans(cls)
        if args.transitions:
            steps = np.loadtxt(
                DATA / "hexoskin-chest" / f"{s}hexoskin" / "step.csv", delimiter=",", skiprows=1, ndmin=2
            )[:, 0]
            trans[s] = transitions(result[s], steps)
        if not args.json:
            print(f"# subject {s}: {len(cls)} s")
            for k in range(len(cls)):
                print(
                    f"{k:5d} sd={f['sd'][k]:.2f} min={f['min'][k]:.2f} rate={f['rate'][k]:5.0f} "
                    f"devcad={f['devcad'][k]:5.0f} {cls[k]}"
                )
            for sp in result[s]:
                print(f"  span {sp['start']:6.0f}-{sp['end']:6.0f} {sp['label']}")
    if args.json:
        json.dump(trans if args.transitions else result, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
