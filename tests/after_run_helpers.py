"""Session folders for the report/history/pain/export tests, written by hand following docs/formats/events.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# walk 30 s (warm-up), run 40 s, walk 40 s, run 30 s
PLAN = [("walk", 30.0, "warm-up"), ("run", 40.0, None), ("walk", 40.0, None), ("run", 30.0, None)]


def _mode_at(activity: str, k: int) -> str:
    """Detected mode k seconds into an interval: a slow start (unknown, then the wrong mode), then the plan."""
    if activity == "walk":
        return "unknown" if k < 2 else ("run" if k < 5 else "walk")
    return "walk" if k < 6 else ("still" if k in (20, 21) else "run")


def hand_records(
    session_id: str = "20261120T073000Z",
    *,
    stop_at: float | None = None,
    intervals: list[tuple[str, float, str | None]] | None = None,
) -> list[dict[str, Any]]:
    plan, start = [], 0.0
    for i, (act, dur, label) in enumerate(intervals or PLAN):
        plan.append(
            {
                "index": i,
                "activity": act,
                "duration_s": dur,
                "label": label,
                "start_s": start,
                "repeat": None,
                "repeats": None,
            }
        )
        start += dur
    recs: list[dict[str, Any]] = [
        {
            "t": 0.0,
            "kind": "session_start",
            "format": "coach-events",
            "version": 1,
            "session_id": session_id,
            "started_at": "2026-11-20T07:30:00Z",
            "programme": "back-pain",
            "programme_title": "Back pain",
            "stage": 1,
            "stage_title": 'Stage <1> & "test"',
            "source": "ble:name=Polar H10 (hand-written test session)",
            "speed": 1.0,
            "demo": False,
            "note": None,
            "targets": {"hr_ceiling_bpm": None, "cadence_baseline_spm": None, "cadence_rise_pct": 5.0},
            "plan": plan,
            "planned_duration_s": start,
        }
    ]
    for p in plan:
        t0, act = p["start_s"], p["activity"]
        recs.append(
            {
                "t": t0,
                "kind": "interval_start",
                "index": p["index"],
                "activity": act,
                "planned_duration_s": p["duration_s"],
                "label": p["label"],
                "repeat": None,
                "repeats": None,
                "planned_t": t0,
            }
        )
        by_mode = {"walk": 0.0, "run": 0.0, "still": 0.0, "unknown": 0.0}
        for k in range(int(p["duration_s"])):
            t = t0 + k + 0.25
            mode = _mode_at(act, k)
            by_mode[mode] += 1
            cad = None
            if mode == "walk":
                cad = 108.0 + (k * 7) % 9
            elif mode == "run":
                cad = 158.0 + (k * 5) % 11
            hr = 95.0 + k if act == "run" else 140.0 - 1.5 * k
            recs.append(
                {
                    "t": t,
                    "kind": "gait",
                    "cadence_spm": cad,
                    "mode": mode,
                    "confidence": 0.8,
                    "steps": 2,
                    "hr_bpm": None if k == 3 else hr,
                    # cleaned live (coach.session.tracker): one strap sample a second, none rejected
                    "hr_samples": 0 if k == 3 else 1,
                    "hr_rejected": 0,
                }
            )
        known = by_mode["walk"] + by_mode["run"] + by_mode["still"]
        recs.append(
            {
                "t": t0 + p["duration_s"],
                "kind": "interval_end",
                "index": p["index"],
                "activity": act,
                "planned_duration_s": p["duration_s"],
                "actual_duration_s": p["duration_s"],
                "reason": "completed",
                "seconds_by_mode": by_mode,
                "adherence": round(by_mode[act] / known, 3),
                "time_to_comply_s": 5.0 if act == "walk" else 6.0,
                "cadence_median_spm": None,
                "hr_mean_bpm": None,
                "hr_max_bpm": None,
            }
        )
    recs.append(
        {
            "t": 13.0,
            "kind": "cue",
            "planned_t": 12.5,
            "type": "heads_up",
            "text": "Run in 10 seconds.",
            "priority": 1,
            "interval_index": 1,
            "duration_s": 1.5,
        }
    )
    recs.sort(key=lambda r: (r["t"], r["kind"] != "interval_end"))
    recs.append(
        {
            "t": start,
            "kind": "session_end",
            "reason": "completed",
            "ended_at": "2026-11-20T07:32:20Z",
            "duration_s": start,
        }
    )
    if stop_at is not None:
        recs = [r for r in recs if r["t"] < stop_at and r["kind"] != "session_end"]
    return recs


def write_folder(
    data_dir: Path, records: list[dict[str, Any]], *, summary_complete: bool | None = True
) -> Path:
    sid = records[0]["session_id"]
    folder = data_dir / "sessions" / sid
    folder.mkdir(parents=True, mode=0o700)
    (folder / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if summary_complete is not None:
        (folder / "summary.json").write_text(
            json.dumps(
                {"format": "coach-summary", "version": 1, "complete": summary_complete, "session_id": sid}
            )
        )
    os.chmod(folder / "events.jsonl", 0o600)
    return folder
