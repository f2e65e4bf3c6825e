"""``coach import FILE``: a recording made with another tool becomes a coach session folder + database rows.

Supported (docs/import.md): FIT, TCX and GPX activities (walking and running only: what a file is, is decided by
:mod:`sensors.readers.sport`; a multisport file gives one session per walking or running leg), a Polar Sensor Logger
ACC export (``...ACC.txt``/``.csv``, semicolon separated, with ``sensor timestamp [ns]`` and ``X/Y/Z [mg]``) with
its HR export beside it (``...HR.txt``, found automatically or given with ``--hr``), or the folder or zip holding
both, and a phone accelerometer folder (:mod:`sensors.readers.phone`). What the file states about itself (device,
sport, its own step total, distance, average speed, laps, what was recovered from a damaged file) is kept in
``session_start.imported_from`` (docs/formats/events.md). The file is read once, by the one reader of its format
(:mod:`sensors.readers`, through :func:`coach.signal.io.load_recordings`, which also gives the start time and the
laps); gait analysis is
:class:`coach.signal.GaitAnalysis`, the same pipeline a live session uses; the folder is written with
:class:`coach.store.record.SessionRecord` in the format of docs/formats/events.md, so ``coach report`` and
``coach export`` treat it like any session.

What becomes the "plan" of an imported recording: the programme stage given with ``--programme/--stage`` (aligned
at the start of the recording; then adherence means something), else the FIT file's laps, else the detected walk and
run segments. Without a programme stage the session has no adherence in the history (there was no plan to follow).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import InputError
from coach.session.adherence import event_figures, interval_stats

if TYPE_CHECKING:
    from coach.signal.io import TrackRow

logger = logging.getLogger(__name__)

HR_MAX_AGE_S = 5.0
#: Positions are kept to 1e-7 degree (about 1 cm), what FIT semicircles and coach's TCX/GPX export hold.
POSITION_DECIMALS = 7
#: What a gait record takes from an activity file's own points (docs/formats/events.md).
TRACK_KEYS = ("distance_m", "speed_mps", "lat_deg", "lon_deg")
MIN_SEGMENT_S = 20.0
COMPLY_RUN_S = 3


@dataclass
class PlanItem:
    activity: str
    start_s: float
    duration_s: float
    label: str | None = None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------ Polar


def polar_hr(hr_path: Path, acc_phone_start: datetime | None) -> list[tuple[float, float]]:
    """Polar Sensor Logger HR export (``Phone timestamp;HR [bpm];...``) or RR export -> (t_s, bpm) on the ACC time
    base (aligned by the phone timestamps, the only clock the files share)."""
    from sensors.readers import ReaderError
    from sensors.readers.polar_logger import read_polar_heart

    try:
        return read_polar_heart(hr_path).on_time_base(acc_phone_start)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc


def sibling_hr(acc_path: Path) -> Path | None:
    """``Polar_H10_X_20240101_120000_ACC.txt`` -> ``..._HR.txt`` when it exists, else ``..._RR.txt``."""
    name = acc_path.name
    for a, b in (("_ACC", "_HR"), ("ACC", "HR"), ("_acc", "_hr"), ("_ACC", "_RR"), ("_acc", "_rr")):
        if a in name:
            cand = acc_path.with_name(name.replace(a, b))
            if cand.is_file() and cand != acc_path:
                return cand
    return None


# ------------------------------------------------------------------------------------------------ plan


def plan_from_segments(rows: Sequence[dict[str, Any]]) -> list[PlanItem]:
    """Walk/run segments of the detected timeline; standing and no-signal join the segment before; segments
    shorter than MIN_SEGMENT_S merge into their neighbour."""
    items: list[PlanItem] = []
    for r in rows:
        mode = r["mode"] if r["mode"] in ("walk", "run") else (items[-1].activity if items else None)
        if mode is None:
            continue
        if items and items[-1].activity == mode:
            items[-1].duration_s = r["t"] + 1.0 - items[-1].start_s
        else:
            items.append(PlanItem(mode, r["t"], 1.0))
    merged: list[PlanItem] = []
    for it in items:
        if merged and (it.duration_s < MIN_SEGMENT_S or merged[-1].activity == it.activity):
            merged[-1].duration_s = it.start_s + it.duration_s - merged[-1].start_s
        else:
            merged.append(it)
    if len(merged) > 1 and merged[0].duration_s < MIN_SEGMENT_S:
        merged[1].duration_s += merged[1].start_s - merged[0].start_s
        merged[1].start_s = merged[0].start_s
        merged.pop(0)
    return merged


def plan_from_laps(rows: Sequence[dict[str, Any]], laps: Sequence[tuple[float, float]]) -> list[PlanItem]:
    out = []
    for k, (s, e) in enumerate(laps):
        inside = [r["mode"] for r in rows if s <= r["t"] < e]
        run, walk = inside.count("run"), inside.count("walk")
        out.append(PlanItem("run" if run >= walk else "walk", s, e - s, f"lap {k + 1}"))
    return out


# ------------------------------------------------------------------------------------------------ records


def session_records(
    rows: Sequence[dict[str, Any]], plan: Sequence[PlanItem], end_s: float
) -> list[dict[str, Any]]:
    """gait, mode, interval_start/end, comply and session_end records (docs/formats/events.md), time ordered."""
    out: list[tuple[float, int, dict[str, Any]]] = []
    prev_mode = "unknown"
    for r in rows:
        out.append(
            (
                r["t"],
                4,
                {
                    "t": round(r["t"], 3),
                    "kind": "gait",
                    "cadence_spm": r["cadence_spm"],
                    "mode": r["mode"],
                    "confidence": r.get("confidence"),
                    "steps": r.get("steps"),
                    "hr_bpm": r["hr_bpm"],
                    # an activity file's own distance, speed and position (docs/formats/events.md), when it has them
                    **{k: r[k] for k in TRACK_KEYS if r.get(k) is not None},
                },
            )
        )
        if r["mode"] != prev_mode:
            out.append(
                (r["t"], 3, {"t": round(r["t"], 3), "kind": "mode", "mode": r["mode"], "previous": prev_mode})
            )
            prev_mode = r["mode"]
    for i, p in enumerate(plan):
        if p.start_s >= end_s:
            break
        stop = min(p.start_s + p.duration_s, end_s)
        complete = p.start_s + p.duration_s <= end_s + 1.0
        base = {
            "index": i,
            "activity": p.activity,
            "planned_duration_s": round(p.duration_s, 3),
            "label": p.label,
        }
        out.append(
            (
                p.start_s,
                1,
                {
                    "t": round(p.start_s, 3),
                    "kind": "interval_start",
                    **base,
                    "repeat": None,
                    "repeats": None,
                    "planned_t": round(p.start_s, 3),
                },
            )
        )
        st = interval_stats(rows, p.start_s, stop, p.activity)
        if st["time_to_comply_s"] is not None:
            t = p.start_s + st["time_to_comply_s"]
            out.append(
                (
                    t,
                    2,
                    {
                        "t": round(t, 3),
                        "kind": "comply",
                        "interval_index": i,
                        "activity": p.activity,
                        "change_t": round(p.start_s, 3),
                        "time_to_comply_s": st["time_to_comply_s"],
                    },
                )
            )
        out.append(
            (
                stop,
                0,
                {
                    "t": round(stop, 3),
                    "kind": "interval_end",
                    **base,
                    "actual_duration_s": round(stop - p.start_s, 3),
                    "reason": "completed" if complete else "stopped",
                    **event_figures(st),
                },
            )
        )
    out.sort(key=lambda x: (x[0], x[1]))
    return [r for _, _, r in out]


def per_second_rows(
    analysis: Any,
    t0: float,
    heart_rate: Sequence[tuple[float, float]],
    track: Sequence[TrackRow] = (),
) -> list[dict[str, Any]]:
    """GaitAnalysis timeline -> 1 Hz rows on the recording's time base, with the latest HR of the last 5 s and, from
    an activity file's ``track`` (:class:`~coach.signal.io.TrackRow`), the distance, speed and position of its
    latest point of the last 5 s."""
    hr = sorted(heart_rate, key=lambda row: row[0])  # stable: the last of equal times wins
    k = -1
    j = -1
    rows = []
    measured = getattr(analysis, "source_", "accelerometer") == "accelerometer"
    for sec, row in zip(analysis.seconds_, analysis.timeline_, strict=True):
        t = round(row["t"] + t0, 3)
        while j + 1 < len(hr) and hr[j + 1][0] < t + 1.0:
            j += 1
        bpm = hr[j][1] if j >= 0 and t + 1.0 - hr[j][0] <= HR_MAX_AGE_S else None
        while k + 1 < len(track) and track[k + 1].t_s < t + 1.0:
            k += 1
        point = track[k] if k >= 0 and t + 1.0 - track[k].t_s <= HR_MAX_AGE_S else None
        cad = row["cadence_spm"]
        out: dict[str, Any] = {
            "t": t,
            "cadence_spm": None if cad is None else round(float(cad), 1),
            "mode": row["mode"],
            "confidence": round(float(row["confidence"]), 3),
            # counted from an accelerometer; a device's cadence gives none (not measured, not zero)
            "steps": len(sec.steps) if measured else None,
            "hr_bpm": bpm,
        }
        if point is not None and point.distance_m is not None:
            out["distance_m"] = round(point.distance_m, 2)  # FIT keeps centimetres
        if point is not None and point.speed_mps is not None:
            out["speed_mps"] = round(point.speed_mps, 3)
        if point is not None and point.has_position:
            out["lat_deg"] = round(point.lat_deg or 0.0, POSITION_DECIMALS)
            out["lon_deg"] = round(point.lon_deg or 0.0, POSITION_DECIMALS)
        rows.append(out)
    return rows


def heart_rate_rows(heart_rate: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """1 Hz rows from heart rate alone: mode unknown, no cadence, the latest HR of the last 5 s."""
    hr = sorted(heart_rate, key=lambda row: row[0])  # stable: the last of equal times wins
    rows: list[dict[str, Any]] = []
    j = -1
    for k in range(int(hr[-1][0] - hr[0][0]) + 1):
        t = hr[0][0] + k
        while j + 1 < len(hr) and hr[j + 1][0] < t + 1.0:
            j += 1
        bpm = hr[j][1] if j >= 0 and t + 1.0 - hr[j][0] <= HR_MAX_AGE_S else None
        rows.append(
            {
                "t": round(t, 3),
                "cadence_spm": None,
                "mode": "unknown",
                "confidence": 0.0,
                "steps": None,
                "hr_bpm": bpm,
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------ import


def import_recording(
    path: Path,
    data_dir: Path,
    *,
    fmt: str = "auto",
    hr_path: Path | None = None,
    programme: str | None = None,
    stage: int | None = None,
    force: bool = False,
) -> tuple[str, Path, list[str]]:
    """Import ``path`` into ``data_dir``: returns (session id, folder, notes) of its first session (a multisport file
    makes one session per walking or running leg: :func:`import_all` returns them all)."""
    return import_all(
        path, data_dir, fmt=fmt, hr_path=hr_path, programme=programme, stage=stage, force=force
    )[0]


#: Formats ``coach import`` takes (``coach analyze`` also reads plain csv and capture files).
IMPORT_FORMATS = ("fit", "tcx", "gpx", "polar-csv", "phone-csv")


def import_all(
    path: Path,
    data_dir: Path,
    *,
    fmt: str = "auto",
    hr_path: Path | None = None,
    programme: str | None = None,
    stage: int | None = None,
    force: bool = False,
) -> list[tuple[str, Path, list[str]]]:
    """Import ``path`` into ``data_dir``: one session per walking or running recording in it (one, or one per leg of
    a multisport file), each as (session id, folder, notes). The database rows are written too."""
    from coach.signal.io import detect_folder, detect_format, load_recordings

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    kind = (detect_folder(path) if path.is_dir() else detect_format(path)) if fmt == "auto" else fmt
    if kind not in IMPORT_FORMATS:
        raise InputError(
            f"{path}: coach imports FIT, TCX and GPX activities, Polar Sensor Logger exports and phone "
            f"accelerometer folders, not {kind} files (for a capture file use `coach run --sensor replay:FILE`)"
        )
    if hr_path is not None and kind != "polar-csv":
        raise InputError(
            f"--hr is for Polar Sensor Logger imports; a {kind.upper()} file carries its own heart rate"
        )
    digest = sha256_path(path)
    recs = load_recordings(path, kind, allow_heart_rate_only=True)  # the one read of the file's data
    out = []
    for rec in recs:
        leg = rec.file.leg if rec.file is not None else None
        out.append(
            _import_one(
                path,
                data_dir,
                rec,
                kind,
                digest,
                leg,
                hr_path=hr_path,
                programme=programme,
                stage=stage,
                force=force,
            )
        )
    return out


def sha256_path(path: Path) -> str:
    """The SHA-256 of a file, or of a folder's files (names and bytes, in name order)."""
    if not path.is_dir():
        return sha256_file(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + b"\0")
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def _import_one(
    path: Path,
    data_dir: Path,
    rec: Any,
    kind: str,
    digest: str,
    leg: int | None,
    *,
    hr_path: Path | None,
    programme: str | None,
    stage: int | None,
    force: bool,
) -> tuple[str, Path, list[str]]:
    from coach.signal import GaitAnalysis
    from coach.store.database import Database
    from coach.store.index import index_session
    from coach.store.record import SessionRecord

    if stage is not None and programme is None:
        programme = "back-pain"
    source = f"import:{kind}:{path.name}#sha256={digest[:16]}" + (f"#leg{leg}" if leg is not None else "")
    with Database.in_dir(data_dir) as db:
        dup = next((r for r in db.sessions() if r["source"] == source), None)
    if dup is not None and not force:
        raise InputError(f"{path}: already imported as session {dup['id']} (use --force to import it again)")
    hr_only = rec.t_s is None and not rec.foot_pod
    notes = list(rec.notes)
    started, laps = rec.started_utc, rec.laps_s
    if kind == "polar-csv" and rec.hr_file is not None and hr_path is None:
        notes.append(f"heart rate from {rec.hr_file.name} (aligned by phone timestamps)")
    elif kind == "polar-csv":
        hr_file = hr_path or (sibling_hr(path) if path.is_file() else None)
        if hr_file is not None:
            rec.heart_rate = polar_hr(hr_file, rec.phone_start)
            notes.append(f"heart rate from {hr_file.name} (aligned by phone timestamps)")
        else:
            notes.append("no Polar HR file beside the ACC file (give one with --hr): no heart rate")
    if started is None:
        started = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
        notes.append("start time unknown: using the file's modification time")
    if hr_only:
        rows = heart_rate_rows(rec.heart_rate)
    else:
        try:
            analysis = GaitAnalysis().analyze(
                rec.t_s, rec.xyz_g, foot_pod=rec.foot_pod, heart_rate=rec.heart_rate
            )
        except ValueError as exc:
            raise InputError(f"{path}: cannot analyse: {exc}") from None
        has_acc = rec.t_s is not None and rec.xyz_g is not None
        t0 = float(rec.t_s[0]) if has_acc and rec.t_s is not None else min(r[0] for r in rec.foot_pod)
        rows = per_second_rows(analysis, t0, rec.heart_rate, rec.track)
    if not rows:
        raise InputError(f"{path}: no usable seconds of data")
    # the recording ends with its last second, or with its last lap when the file's laps run on past it (a coach
    # export's last interval may end after the last record)
    end_s = max([rows[-1]["t"] + 1.0, *(end for _, end in laps)])
    stage_title = None
    programme_title = None
    programme_source: dict[str, str] = {}
    if stage is not None and programme is not None:
        from coach.plan.programme import load_programme

        prog = load_programme(programme)
        splan = prog.plan(stage)
        plan = [PlanItem(iv.activity, iv.start_s, iv.duration_s, iv.label) for iv in splan.intervals]
        plan_kind, stage_title, programme_title = "programme", splan.stage_title, prog.title
        programme = prog.name
        programme_source = prog.source_fields()
    elif laps and len(laps) > 1:
        plan, plan_kind = plan_from_laps(rows, laps), "laps"
    else:
        plan, plan_kind = plan_from_segments(rows), "segments"
    records = session_records(rows, plan, end_s)
    ended = started + timedelta(seconds=end_s)
    plan_records = [
        {
            "index": i,
            "activity": p.activity,
            "duration_s": round(p.duration_s, 3),
            "label": p.label,
            "start_s": round(p.start_s, 3),
            "repeat": None,
            "repeats": None,
        }
        for i, p in enumerate(plan)
    ]
    what = {
        "laps": "the file's laps",
        "segments": "the detected walk/run segments",
        "programme": f"{programme} stage {stage}, aligned at the start",
    }[plan_kind]
    session = SessionRecord(data_dir, started_at=started)
    try:
        session.start(
            programme=programme,
            programme_title=programme_title,
            **programme_source,
            stage=stage,
            stage_title=stage_title,
            targets={"hr_ceiling_bpm": None, "cadence_baseline_spm": None, "cadence_rise_pct": 5.0},
            plan=plan_records,
            planned_duration_s=round(sum(p.duration_s for p in plan), 3),
            source=source,
            speed=None,
            demo=False,
            imported=True,
            plan_kind=plan_kind,
            note=f"Imported from {path.name} ({kind}); intervals are {what}. " + " ".join(notes),
            imported_from=None if rec.file is None else rec.file.as_json(),
        )
        for r in records:
            session.write(r)
        session.write(
            {
                "t": round(end_s, 3),
                "kind": "session_end",
                "reason": "completed",
                "ended_at": ended.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "duration_s": round(end_s, 3),
            }
        )
        session.close(complete=True)
        if path.is_dir():
            copy = session.folder / "source"
            shutil.copytree(path, copy)
            for f in copy.rglob("*"):
                os.chmod(f, 0o700 if f.is_dir() else 0o600)
        else:
            copy = session.folder / f"source{path.suffix.lower() or '.dat'}"
            shutil.copyfile(path, copy)
            os.chmod(copy, 0o600)
    except BaseException:
        session.close(complete=False)
        raise
    with Database.in_dir(data_dir) as db:
        sid = index_session(db, session.folder)
    return sid, session.folder, notes
