"""Files from the outside world (tests/data/third-party, tests/data/garmin-fit) against what docs/import.md promises.

Each file has an expected outcome for ``coach analyze`` and for ``coach import``, both run through the command line
as a user runs them: accepted with the cadence of the file's own records (within :data:`CADENCE_TOLERANCE_SPM`), or
refused with one line that says what the file is and what coach would need, never a traceback. "The file's own
cadence" is computed here from the file with fitdecode directly (not through coach's reader): the time-weighted mean
of its records' ``cadence + fractional_cadence`` x 2 over the records with a step cadence, each record holding until
the next.

Derived cases (made in tmp_path from the committed real files): a FIT run cut at 60 %, a ride without any sport or
session message, a TCX and a GPX written from a real FIT run, coach's own TCX export imported back, a Polar Sensor
Logger export whose strap clock was never set, and the app's zip.
"""

from __future__ import annotations

import itertools
import json
import lzma
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fitdecode
import numpy as np
import pytest

from coach.errors import EXIT_INPUT
from tests.cli_helpers import run_main
from tests.realdata import FIT_DIR, THIRD_PARTY

#: Coach's cadence must agree with the file's own this closely (steps/min).
CADENCE_TOLERANCE_SPM = 1.0
#: Phone-on-chest step counts must be within this share of the foot-switch count.
STEP_TOLERANCE = 0.02
#: A record's cadence holds until the next record, but not across a gap longer than this (s).
HOLD_MAX_S = 10.0

FITPARSE = THIRD_PARTY / "fitparse"
TCX = THIRD_PARTY / "tcxparser"
POLAR = THIRD_PARTY / "biobss"
OXFORD = THIRD_PARTY / "oxford-step-counter"
NEEDS = "coach analyses walking and running"


@dataclass(frozen=True)
class Case:
    """What ``coach analyze`` and ``coach import`` do with a file: ``sessions`` imported (0 = refused), and the
    pattern of the refusal (analyze's, and import's when it refuses too)."""

    path: Path
    sessions: int
    refusal: str | None = None
    steps: int | None = None  # the file's own step total, when it states one


CASES = [
    Case(FITPARSE / "compressed-speed-distance.fit", 1, steps=10124),
    Case(FITPARSE / "developer-types-sample.fit", 1),
    Case(FITPARSE / "activity-large-fenxi2-multisport.fit", 2),
    Case(FIT_DIR / "activity-small-fenix2-run.fit", 1),
    Case(FIT_DIR / "garmin-fenix-5-run.fit", 1, steps=156),
    Case(FIT_DIR / "garmin-fenix-5-walk.fit", 1, steps=82),
    # a run with heart rate only: analyze has nothing to analyse, import keeps a heart-rate session
    Case(
        FIT_DIR / "2013-02-06-12-11-14.fit", 1, r"a running activity without step cadence \(heart rate only\)"
    ),
    Case(TCX / "test.tcx", 1, r"a running activity without step cadence \(heart rate only\)"),
    Case(TCX / "no_hr.tcx", 0, r"a running activity without step cadence \(speed/GPS only\)"),
    Case(TCX / "sup_activity_1.tcx", 0, r"a generic activity: nothing says it was on foot: no step cadence"),
    Case(
        FITPARSE / "nick.fit", 0, r"a cycling activity: not walking or running.*unterminated.*14391 records"
    ),
    Case(
        FITPARSE / "activity-unexpected-eof.fit",
        0,
        r"without step cadence \(speed/GPS only\).*cut short \(768 of the 771 bytes",
    ),
    Case(
        FITPARSE / "activity-settings.fit", 0, r"a running activity without step cadence \(speed/GPS only\)"
    ),
    Case(
        FITPARSE / "20170518-191602-1740899583.fit", 0, r"a fitness equipment activity \(indoor rowing\): not"
    ),
    Case(FITPARSE / "garmin-edge-500-activity.fit", 0, r"a cycling activity: not walking or running"),
    Case(FITPARSE / "garmin-fenix-5-bike.fit", 0, r"a cycling activity: not walking or running"),
    Case(
        FITPARSE / "strava-android-app-201.10-b1218918.fit",
        0,
        r"a running activity without step cadence \(speed/GPS only\).*damaged.*473 records",
    ),
    Case(POLAR, 1),
    Case(OXFORD / "Pixel_Jamie_Hard_NeckPouch_1", 1),
    Case(OXFORD / "Pixel_Jamie_Hard_NeckPouch_2", 1),
]


def _id(case: Case) -> str:
    return case.path.name


def test_every_third_party_file_is_in_the_table() -> None:
    listed = {c.path for c in CASES}
    files = {p for p in FITPARSE.glob("*.fit")} | {p for p in TCX.glob("*.tcx")}
    assert files <= listed, sorted(p.name for p in files - listed)


# ------------------------------------------------------------------------------------------------- oracles


def _fit_messages(path: Path) -> list[Any]:
    out = []
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.DISABLED) as reader:
            out.extend(f for f in reader if isinstance(f, fitdecode.FitDataMessage))
    except fitdecode.FitError:
        pass  # a damaged file: what was read before the damage
    return out


def _value(frame: Any, name: str) -> Any:
    return frame.get_value(name) if frame.has_field(name) else None


def own_cadence(rows: list[tuple[float, float]]) -> float:
    """Time-weighted mean steps/min of ``(t_s, steps_per_min)`` records with a step cadence (40-240)."""
    num = den = 0.0
    for (t, c), (t2, _) in itertools.pairwise(rows):
        if 40.0 <= c <= 240.0 and 0 < t2 - t <= HOLD_MAX_S:
            num += c * (t2 - t)
            den += t2 - t
    return num / den


def fit_legs_cadence(path: Path) -> list[float]:
    """The file's own cadence of each session that has step cadence, read with fitdecode (see the module doc)."""
    msgs = _fit_messages(path)
    ends = []
    for m in msgs:
        if m.name == "session":
            ends.append((_value(m, "timestamp"), _value(m, "sport")))
    records = []
    for m in msgs:
        if m.name == "record" and _value(m, "cadence") is not None:
            ts = _value(m, "timestamp")
            t = ts.timestamp() if isinstance(ts, datetime) else float(ts)
            records.append((t, ts, 2.0 * (_value(m, "cadence") + (_value(m, "fractional_cadence") or 0.0))))
    out = []
    start = None
    for end, sport in ends or [(None, "running")]:
        leg = [(t, c) for t, ts, c in records if (start is None or ts > start) and (end is None or ts <= end)]
        start = end
        if sport in ("running", "walking") and leg:
            out.append(own_cadence(leg))
    return out


def coach_cadence(doc: dict[str, Any]) -> float:
    """Coach's mean cadence over the seconds with a step cadence (``coach analyze --json`` timeline)."""
    values = [r["cadence_spm"] for r in doc["timeline"] if r["cadence_spm"]]
    return float(np.mean(values))


def foot_switch_steps(folder: Path) -> int:
    """The Oxford dataset's truth: every 0 -> 1 change of either foot switch is one step."""
    table = np.loadtxt(folder / "stepcounter.csv", delimiter=",")
    return int((np.diff(table[:, 1]) == 1).sum() + (np.diff(table[:, 2]) == 1).sum())


# ------------------------------------------------------------------------------------------------- the table


def analyze(path: Path) -> tuple[int, dict[str, Any] | None, str]:
    code, out, err = run_main("analyze", path, "--json")
    assert "Traceback" not in out + err
    return code, (json.loads(out) if code == 0 else None), err


def _one_line_refusal(err: str, pattern: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert NEEDS in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_coach_analyze_does_what_the_table_says(case: Case) -> None:
    code, doc, err = analyze(case.path)
    if case.refusal is not None:
        assert code == EXIT_INPUT
        _one_line_refusal(err, case.refusal)
        return
    assert code == 0, err
    assert doc is not None
    if case.path.suffix == ".fit":
        own = fit_legs_cadence(case.path)[0]
        assert abs(coach_cadence(doc) - own) <= CADENCE_TOLERANCE_SPM, (coach_cadence(doc), own)
        file = doc["summary"]["file"]
        assert file["format"] == "fit" and file["device"] and file["sport"] in ("running", "walking")
        assert file["steps"] == case.steps
    if case.path.parent == OXFORD:
        truth = foot_switch_steps(case.path)
        steps = doc["summary"]["step_count"]
        assert abs(steps - truth) <= STEP_TOLERANCE * truth, (steps, truth)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_coach_import_does_what_the_table_says(case: Case, tmp_path: Path) -> None:
    code, out, err = run_main("import", case.path, "--data-dir", tmp_path)
    assert "Traceback" not in out + err
    if case.sessions == 0:
        assert code == EXIT_INPUT
        _one_line_refusal(err, case.refusal or "")
        return
    assert code == 0, err
    sids = re.findall(r"as session (\S+) ", out)
    assert len(sids) == case.sessions, out
    for sid in sids:
        start = json.loads((tmp_path / "sessions" / sid / "events.jsonl").read_text().splitlines()[0])
        facts = start.get("imported_from")
        if case.path.suffix in (".fit", ".tcx"):
            assert facts["format"] == case.path.suffix[1:] and facts["device"], facts
            assert facts["steps"] == case.steps
            assert facts["distance_m"] and facts["distance_m"] > 0


def test_a_multisport_file_gives_one_session_per_running_leg_with_its_own_cadence(tmp_path: Path) -> None:
    path = FITPARSE / "activity-large-fenxi2-multisport.fit"
    code, out, err = run_main("import", path, "--data-dir", tmp_path)
    assert code == 0, err
    for skipped in (
        "leg 1 of 7 (a generic activity",
        "leg 7 of 7 (a cycling activity",
        "leg 2 of 7 (a transition",
    ):
        assert skipped in out
    assert "coasting" in out  # the generic leg's evidence: cadence 0 at speed
    sids = re.findall(r"as session (\S+) ", out)
    own = fit_legs_cadence(path)
    assert len(own) == len(sids) == 2
    for sid, expected in zip(sids, own, strict=True):
        cad = [
            r["cadence_spm"]
            for r in map(json.loads, (tmp_path / "sessions" / sid / "events.jsonl").read_text().splitlines())
            if r["kind"] == "gait" and r["cadence_spm"]
        ]
        assert abs(float(np.mean(cad)) - expected) <= CADENCE_TOLERANCE_SPM


def test_an_unset_clock_is_not_a_date(tmp_path: Path) -> None:
    code, out, err = run_main("import", FITPARSE / "compressed-speed-distance.fit", "--data-dir", tmp_path)
    assert code == 0, err
    assert "the device clock was never set" in out
    assert "using the file's modification time" in out
    sid = re.findall(r"as session (\S+) ", out)[0]
    assert not sid.startswith("1989") and not sid.startswith("1990")


# ------------------------------------------------------------------------------------------------- derived files


def test_a_fit_run_cut_at_60_percent_keeps_every_intact_record(tmp_path: Path) -> None:
    src = FIT_DIR / "activity-small-fenix2-run.fit"
    data = src.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    intact = [m for m in _fit_messages(cut) if m.name == "record"]
    code, doc, err = analyze(cut)
    assert code == 0, err
    assert doc is not None
    note = next(n for n in doc["summary"]["notes"] if n.startswith("recovered:"))
    assert f"{len(intact)} records recovered from the first 60 %" in note
    rows = [
        (_value(m, "timestamp").timestamp(), 2.0 * _value(m, "cadence"))
        for m in intact
        if _value(m, "cadence") is not None
    ]
    assert abs(coach_cadence(doc) - own_cadence(rows)) <= CADENCE_TOLERANCE_SPM


def _ride_without_sport(tmp_path: Path, *, with_speed: bool) -> Path:
    """The Edge 500 ride's records (cadence, speed) in a FIT file with no sport, session or device name."""
    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    enc = Encoder()
    recs = [m for m in _fit_messages(FITPARSE / "garmin-edge-500-activity.fit") if m.name == "record"]
    enc.write_mesg(
        {"mesg_num": mesg["FILE_ID"], "type": "activity", "time_created": _value(recs[0], "timestamp")}
    )
    for m in recs[:3600]:
        row = {
            "mesg_num": mesg["RECORD"],
            "timestamp": _value(m, "timestamp"),
            "cadence": _value(m, "cadence"),
        }
        if with_speed and _value(m, "speed") is not None:
            row["speed"] = _value(m, "speed")
        enc.write_mesg({k: v for k, v in row.items() if v is not None})
    path = tmp_path / "ride.fit"
    path.write_bytes(enc.close())
    return path


def test_a_ride_without_a_sport_message_is_not_a_run(tmp_path: Path) -> None:
    code, _, err = analyze(_ride_without_sport(tmp_path, with_speed=True))
    assert code != 0
    _one_line_refusal(
        err, r"an activity without a sport: nothing says it was on foot: .*(coasting|m/s|m long)"
    )


def _fit_points(path: Path) -> list[dict[str, Any]]:
    out = []
    for m in _fit_messages(path):
        if m.name != "record" or _value(m, "position_lat") is None:
            continue
        out.append(
            {
                "time": _value(m, "timestamp"),
                "lat": _value(m, "position_lat") * 180.0 / 2**31,
                "lon": _value(m, "position_long") * 180.0 / 2**31,
                "hr": _value(m, "heart_rate"),
                "cad": _value(m, "cadence"),
                "dist": _value(m, "distance"),
                "speed": _value(m, "speed"),
            }
        )
    return out


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_gpx(points: list[dict[str, Any]], path: Path, sport: str) -> Path:
    """A GPX 1.1 track as Strava and Garmin Connect write one: TrackPointExtension hr and cad (per-foot rpm)."""
    body = "".join(
        f'<trkpt lat="{p["lat"]:.7f}" lon="{p["lon"]:.7f}"><time>{_z(p["time"])}</time><extensions>'
        f"<gpxtpx:TrackPointExtension><gpxtpx:hr>{p['hr']}</gpxtpx:hr><gpxtpx:cad>{p['cad']}</gpxtpx:cad>"
        f"</gpxtpx:TrackPointExtension></extensions></trkpt>"
        for p in points
        if p["hr"] is not None and p["cad"] is not None
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="StravaGPX" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>Run</name><type>{sport}</type><trkseg>{body}</trkseg></trk></gpx>\n",
        encoding="utf-8",
    )
    return path


def write_tcx(points: list[dict[str, Any]], path: Path) -> Path:
    """A TCX v2 run as Garmin writes one: ActivityExtension TPX Speed and RunCadence (strides/min)."""
    tps = "".join(
        f"<Trackpoint><Time>{_z(p['time'])}</Time><DistanceMeters>{p['dist']}</DistanceMeters>"
        f"<HeartRateBpm><Value>{p['hr']}</Value></HeartRateBpm><Extensions><ns3:TPX><ns3:Speed>{p['speed']}"
        f"</ns3:Speed><ns3:RunCadence>{p['cad']}</ns3:RunCadence></ns3:TPX></Extensions></Trackpoint>"
        for p in points
        if None not in (p["hr"], p["cad"], p["dist"], p["speed"])
    )
    start = _z(points[0]["time"])
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="Running"><Id>{start}</Id><Lap StartTime="{start}"><TotalTimeSeconds>'
        f"{(points[-1]['time'] - points[0]['time']).total_seconds()}</TotalTimeSeconds><Track>{tps}</Track></Lap>"
        '<Creator xsi:type="Device_t" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Name>fenix 2</Name>'
        "</Creator></Activity></Activities></TrainingCenterDatabase>\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_a_real_run_as_gpx_and_tcx_has_the_fit_cadence(tmp_path: Path, fmt: str) -> None:
    src = FIT_DIR / "activity-small-fenix2-run.fit"
    points = _fit_points(src)
    path = (
        write_gpx(points, tmp_path / "run.gpx", "running")
        if fmt == "gpx"
        else write_tcx(points, tmp_path / "run.tcx")
    )
    code, doc, err = analyze(path)
    assert code == 0, err
    assert doc is not None
    own = own_cadence([(p["time"].timestamp(), 2.0 * p["cad"]) for p in points if p["cad"] is not None])
    assert abs(coach_cadence(doc) - own) <= CADENCE_TOLERANCE_SPM, (coach_cadence(doc), own)
    assert doc["summary"]["file"]["format"] == fmt
    assert doc["summary"]["file"]["distance_m"] == pytest.approx(9008, rel=0.02)


def test_a_gpx_ride_is_refused_and_named(tmp_path: Path) -> None:
    points = _fit_points(FIT_DIR / "activity-small-fenix2-run.fit")
    code, _, err = analyze(write_gpx(points, tmp_path / "ride.gpx", "cycling"))
    assert code != 0
    _one_line_refusal(err, r"a cycling activity: not walking or running")


def _summary(data: Path) -> dict[str, Any]:
    code, out, err = run_main("report", "latest", "--json", "--data-dir", data)
    assert code == 0, err
    return dict(json.loads(out)["summary"])


@pytest.mark.parametrize("fmt", ["tcx", "fit"])
def test_coach_own_export_imports_back_with_the_same_figures(tmp_path: Path, fmt: str) -> None:
    data = tmp_path / "data"
    code, out, err = run_main("import", FIT_DIR / "activity-small-fenix2-run.fit", "--data-dir", data)
    assert code == 0, err
    sid = re.findall(r"as session (\S+) ", out)[0]
    code, out, err = run_main("export", sid, f"--{fmt}", tmp_path / f"out.{fmt}", "--data-dir", data)
    assert code == 0, err
    code, out, err = run_main("import", tmp_path / f"out.{fmt}", "--data-dir", tmp_path / "again")
    assert code == 0, err
    first, again = _summary(data), _summary(tmp_path / "again")
    # the export rounds cadence to whole strides/min (TCX RunCadence is an integer): 1 step/min at most
    for key in ("cadence_walk_spm", "cadence_run_spm"):
        assert abs(first[key] - again[key]) <= CADENCE_TOLERANCE_SPM, (key, first[key], again[key])
    assert abs(first["hr_mean_bpm"] - again["hr_mean_bpm"]) <= 1.0
    assert first["hr_max_bpm"] == again["hr_max_bpm"]
    assert first["intervals_planned"] == again["intervals_planned"]  # the laps came back


def _polar_copy(dest: Path, shift: timedelta) -> Path:
    """The biobss export with the strap's sensor clock moved by ``shift`` (the phone time stamps untouched)."""
    dest.mkdir()
    acc = (POLAR / "Polar_Sense_ACC.txt").read_text(encoding="utf-8").splitlines()
    shift_ns = int(shift.total_seconds()) * 1_000_000_000
    out = [acc[0]]
    for line in acc[1:]:
        cols = line.split(";")
        cols[1] = str(int(cols[1]) + shift_ns)
        out.append(";".join(cols))
    (dest / "Polar_Sense_ACC.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
    shutil.copyfile(POLAR / "Polar_Sense_HR.txt", dest / "Polar_Sense_HR.txt")
    return dest


def _started(data: Path, out: str) -> datetime:
    sid = re.findall(r"as session (\S+) ", out)[0]
    start = json.loads((data / "sessions" / sid / "events.jsonl").read_text().splitlines()[0])
    return datetime.fromisoformat(start["started_at"].replace("Z", "+00:00"))


def test_a_polar_export_with_an_unset_strap_clock_is_dated_by_the_phone(tmp_path: Path) -> None:
    # the strap's clock at its 2019-01-01 default: 2022-04-25 11:39 -> 2019-01-01 00:01
    shift = datetime(2019, 1, 1, 0, 1, tzinfo=UTC) - datetime(2022, 4, 25, 11, 39, 35, tzinfo=UTC)
    folder = _polar_copy(tmp_path / "export", shift)
    code, out, err = run_main("import", folder, "--data-dir", tmp_path / "data")
    assert code == 0, err
    assert "the strap's clock was never set" in out
    phone = datetime(2022, 4, 25, 11, 39, 36, 978000).astimezone(UTC)
    assert abs((_started(tmp_path / "data", out) - phone).total_seconds()) <= 1.0
    assert "heart rate from Polar_Sense_HR.txt" in out


def test_a_polar_zip_is_one_argument(tmp_path: Path) -> None:
    zpath = tmp_path / "polar.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in ("Polar_Sense_ACC.txt", "Polar_Sense_HR.txt"):
            zf.write(POLAR / name, f"export/{name}")
    code_zip, out_zip, err = run_main("analyze", zpath, "--json")
    assert code_zip == 0, err
    code_dir, out_dir, _ = run_main("analyze", POLAR, "--json")
    assert code_dir == 0
    assert json.loads(out_zip)["timeline"] == json.loads(out_dir)["timeline"]
    code, out, err = run_main("import", zpath, "--data-dir", tmp_path / "data")
    assert code == 0, err
    assert "heart rate from Polar_Sense_HR.txt" in out


def test_the_oxford_files_decompress_to_the_upstream_bytes() -> None:
    import hashlib

    source = (OXFORD / "SOURCE.txt").read_text(encoding="utf-8")
    for k in (1, 2):
        raw = lzma.decompress(
            (OXFORD / f"Pixel_Jamie_Hard_NeckPouch_{k}" / "accelerometer.csv.xz").read_bytes()
        )
        assert f"_{k}: {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}" in source


def test_a_polar_export_with_rr_and_no_hr_file_gets_its_heart_rate_from_the_beats(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copyfile(POLAR / "Polar_Sense_ACC.txt", folder / "Polar_Sense_ACC.txt")
    lines = (POLAR / "Polar_Sense_HR.txt").read_text(encoding="utf-8").splitlines()[1:]
    hr_rows = [line for line in lines if float(line.split(";")[1]) > 0]  # 0 = no reading
    rr = ["Phone timestamp;RR-interval [ms]"]
    rr += [f"{line.split(';')[0]};{60000 / float(line.split(';')[1]):.0f}" for line in hr_rows]
    (folder / "Polar_Sense_RR.txt").write_text("\n".join(rr) + "\n", encoding="utf-8")
    code, out, err = run_main("import", folder, "--data-dir", tmp_path / "data")
    assert code == 0, err
    assert "heart rate from Polar_Sense_RR.txt" in out
    sid = re.findall(r"as session (\S+) ", out)[0]
    rows = [
        json.loads(x)
        for x in (tmp_path / "data" / "sessions" / sid / "events.jsonl").read_text().splitlines()
    ]
    bpm = [r["hr_bpm"] for r in rows if r["kind"] == "gait" and r["hr_bpm"] is not None]
    expected = [float(line.split(";")[1]) for line in hr_rows]
    assert bpm and abs(float(np.median(bpm)) - float(np.median(expected))) <= 1.0


def test_damaged_tcx_gpx_and_fit_files_give_one_line_errors_only(tmp_path: Path) -> None:
    """Seeded damage (cuts, flipped bytes, inserted garbage) to real files of each activity format: loading either
    works or raises a one-line input error naming the file, never anything else."""
    import random

    from coach.errors import CoachError
    from coach.signal.io import load_recordings

    seeds = {
        "run.tcx": write_tcx(
            _fit_points(FIT_DIR / "garmin-fenix-5-run.fit"), tmp_path / "seed.tcx"
        ).read_bytes(),
        "run.gpx": write_gpx(
            _fit_points(FIT_DIR / "activity-small-fenix2-run.fit")[:300], tmp_path / "seed.gpx", "running"
        ).read_bytes(),
        "hr.tcx": (TCX / "test.tcx").read_bytes(),
        "run.fit": (FITPARSE / "compressed-speed-distance.fit").read_bytes(),
        "multi.fit": (FITPARSE / "developer-types-sample.fit").read_bytes(),
    }
    rng = random.Random(13)
    outcomes = {"loaded": 0, "refused": 0}
    for k in range(150):
        name = rng.choice(sorted(seeds))
        data = bytearray(seeds[name])
        for _ in range(rng.randint(1, 3)):
            op = rng.choice(("cut", "flip", "insert"))
            at = rng.randrange(len(data))
            if op == "cut":
                del data[at:]
            elif op == "flip" and data:
                data[at] ^= 1 << rng.randrange(8)
            else:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
            if not data:
                data = bytearray(b"x")
        path = tmp_path / f"{k}-{name}"
        path.write_bytes(bytes(data))
        try:
            load_recordings(path)
            outcomes["loaded"] += 1
        except CoachError as exc:
            outcomes["refused"] += 1
            assert str(exc).startswith(str(path)), str(exc)
            assert "\n" not in str(exc).strip(), str(exc)
    assert outcomes["loaded"] and outcomes["refused"], outcomes


def test_a_gpx_ride_without_a_type_is_not_a_run(tmp_path: Path) -> None:
    # the Edge 500 ride as a GPX without <type>: pedal rpm in `cad` would double to a believable step rate
    points = _fit_points(FITPARSE / "garmin-edge-500-activity.fit")[:3000]
    code, _, err = analyze(write_gpx(points, tmp_path / "ride.gpx", ""))
    assert code == EXIT_INPUT
    _one_line_refusal(err, r"an activity without a sport: nothing says it was on foot")


def test_a_zipped_activity_reads_like_the_file(tmp_path: Path) -> None:
    # Garmin Connect's "export original" is a zip holding the .fit
    for name in ("garmin-fenix-5-run.fit", "garmin-fenix-5-bike.fit"):
        src = (FIT_DIR if "run" in name else FITPARSE) / name
        zpath = tmp_path / f"{src.stem}.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            zf.write(src, name)
        code_zip, doc_zip, err_zip = analyze(zpath)
        code, doc, err = analyze(src)
        assert code_zip == code
        if code == 0:
            assert doc_zip == doc
        else:
            assert err_zip.replace(f"{zpath}!{name}", str(src)) == err
    code, out, err = run_main("import", tmp_path / "garmin-fenix-5-run.zip", "--data-dir", tmp_path / "data")
    assert code == 0, err
    assert "steps: 156 (the file's total of 78 strides x 2)" in out
