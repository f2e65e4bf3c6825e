"""FIT and TCX export of an :class:`coach.report.activity.Activity`.

FIT is written with Garmin's FIT SDK for Python (``garmin_fit_sdk.Encoder``) following the FIT "activity file"
layout: file_id, device_info, a timer start event, 1 Hz record messages, one lap per interval (intensity ``active``
for runs, ``rest`` for walks), a timer stop event, the session and the activity message.

TCX follows Garmin's Training Center Database v2 schema (validated in the tests against
shared/data/schemas/TrainingCenterDatabasev2.xsd) with cadence in the ActivityExtension v2 ``RunCadence`` element.

Units: the app works in steps/min; FIT running cadence is strides/min as ``cadence`` (uint8) plus
``fractional_cadence`` (1/128); TCX ``RunCadence`` is strides/min too (integer).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coach import __version__
from coach.report.activity import Activity, ActivityLap, ActivityRecord

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TCX_EXT_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def spm_to_fit_cadence(cadence_spm: float) -> tuple[int, float]:
    """Steps/min -> FIT running cadence (whole strides/min, fractional strides/min in 1/128 steps)."""
    strides = max(0.0, cadence_spm) / 2.0
    whole = math.floor(strides)
    frac = round((strides - whole) * 128) / 128
    if frac >= 1.0:
        whole, frac = whole + 1, 0.0
    return min(whole, 254), frac


def fit_cadence_to_spm(cadence: float | None, fractional: float | None = None) -> float | None:
    """FIT running cadence (strides/min + fraction) -> steps/min."""
    if cadence is None:
        return None
    return 2.0 * (float(cadence) + float(fractional or 0.0))


def _at(activity: Activity, t_s: float) -> datetime:
    return activity.start_time + timedelta(seconds=t_s)


def _records_in(records: Sequence[ActivityRecord], lap: ActivityLap, last: bool) -> list[ActivityRecord]:
    return [r for r in records if lap.start_s <= r.t_s < lap.end_s or (last and r.t_s == lap.end_s)]


def _hr_stats(records: Sequence[ActivityRecord]) -> tuple[int | None, int | None]:
    hrs = [r.hr_bpm for r in records if r.hr_bpm is not None and r.hr_bpm > 0]
    if not hrs:
        return None, None
    return round(sum(hrs) / len(hrs)), round(max(hrs))


def _cadence_mean_spm(records: Sequence[ActivityRecord]) -> float | None:
    cad = [r.cadence_spm for r in records if r.cadence_spm is not None and r.cadence_spm > 0]
    return sum(cad) / len(cad) if cad else None


def _distance(records: Sequence[ActivityRecord]) -> float | None:
    dist = [r.distance_m for r in records if r.distance_m is not None]
    return (dist[-1] - dist[0]) if len(dist) >= 2 else None


def to_fit_bytes(activity: Activity) -> bytes:
    """Encode ``activity`` as a FIT activity file (bytes, CRC included)."""
    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    enc = Encoder()
    start = activity.start_time.astimezone(UTC)
    end = _at(activity, activity.duration_s).astimezone(UTC)
    enc.write_mesg(
        {
            "mesg_num": mesg["FILE_ID"],
            "type": "activity",
            "manufacturer": "development",
            "product": 1,
            "serial_number": 1,
            "time_created": start,
        }
    )
    enc.write_mesg(
        {
            "mesg_num": mesg["DEVICE_INFO"],
            "timestamp": start,
            "device_index": "creator",
            "manufacturer": "development",
            "product": 1,
            "product_name": "coach",
            "software_version": float(__version__.split(".")[0] + "." + __version__.split(".")[1]),
        }
    )
    enc.write_mesg(
        {
            "mesg_num": mesg["EVENT"],
            "timestamp": start,
            "event": "timer",
            "event_type": "start",
            "event_group": 0,
        }
    )
    for r in activity.records:
        record: dict[str, object] = {"mesg_num": mesg["RECORD"], "timestamp": _at(activity, r.t_s)}
        if r.hr_bpm is not None and r.hr_bpm > 0:
            record["heart_rate"] = min(254, round(r.hr_bpm))
        if r.cadence_spm is not None and r.cadence_spm > 0:
            whole, frac = spm_to_fit_cadence(r.cadence_spm)
            record["cadence"] = whole
            record["fractional_cadence"] = frac
        if r.distance_m is not None:
            record["distance"] = r.distance_m
        if r.speed_mps is not None:
            record["speed"] = r.speed_mps
        enc.write_mesg(record)
    laps = activity.laps_or_whole()
    for i, lap in enumerate(laps):
        recs = _records_in(activity.records, lap, last=i == len(laps) - 1)
        avg_hr, max_hr = _hr_stats(recs)
        lap_msg: dict[str, object] = {
            "mesg_num": mesg["LAP"],
            "message_index": i,
            "timestamp": _at(activity, lap.end_s),
            "start_time": _at(activity, lap.start_s),
            "event": "lap",
            "event_type": "stop",
            "total_elapsed_time": lap.duration_s,
            "total_timer_time": lap.duration_s,
            "intensity": "rest" if lap.is_rest else "active",
            "lap_trigger": "time",
            "sport": "running",
        }
        if avg_hr is not None:
            lap_msg["avg_heart_rate"] = avg_hr
            lap_msg["max_heart_rate"] = max_hr
        cad = _cadence_mean_spm(recs)
        if cad is not None:
            whole, frac = spm_to_fit_cadence(cad)
            lap_msg["avg_cadence"] = whole  # avg_running_cadence is only its running-sport name (a subfield)
            lap_msg["avg_fractional_cadence"] = frac
        dist = _distance(recs)
        if dist is not None:
            lap_msg["total_distance"] = dist
        enc.write_mesg(lap_msg)
    enc.write_mesg(
        {
            "mesg_num": mesg["EVENT"],
            "timestamp": end,
            "event": "timer",
            "event_type": "stop_all",
            "event_group": 0,
        }
    )
    avg_hr, max_hr = _hr_stats(activity.records)
    session: dict[str, object] = {
        "mesg_num": mesg["SESSION"],
        "message_index": 0,
        "timestamp": end,
        "start_time": start,
        "event": "session",
        "event_type": "stop",
        "sport": "running",
        "sub_sport": "generic",
        "total_elapsed_time": activity.duration_s,
        "total_timer_time": activity.duration_s,
        "first_lap_index": 0,
        "num_laps": len(laps),
        "trigger": "activity_end",
    }
    if avg_hr is not None:
        session["avg_heart_rate"] = avg_hr
        session["max_heart_rate"] = max_hr
    cad = _cadence_mean_spm(activity.records)
    if cad is not None:
        whole, frac = spm_to_fit_cadence(cad)
        session["avg_cadence"] = whole  # the SDK encoder drops subfield names such as avg_running_cadence
        session["avg_fractional_cadence"] = frac
    enc.write_mesg(session)
    offset_s = round((activity.start_time.utcoffset() or timedelta(0)).total_seconds())
    enc.write_mesg(
        {
            "mesg_num": mesg["ACTIVITY"],
            "timestamp": end,
            "total_timer_time": activity.duration_s,
            "num_sessions": 1,
            "type": "manual",
            "event": "activity",
            "event_type": "stop",
            "local_timestamp": _fit_local_timestamp(end, offset_s),
        }
    )
    data: bytes = enc.close()
    return data


def _fit_local_timestamp(end: datetime, offset_s: int) -> int:
    fit_epoch = datetime(1989, 12, 31, tzinfo=UTC)
    return int((end - fit_epoch).total_seconds()) + offset_s


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_tcx_bytes(activity: Activity) -> bytes:
    """Encode ``activity`` as a TCX (Training Center Database v2) document, UTF-8."""
    ET.register_namespace("", TCX_NS)
    ET.register_namespace("ax", TCX_EXT_NS)
    ET.register_namespace("xsi", XSI_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, ns: str = TCX_NS) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{TCX_NS}}}TrainingCenterDatabase")
    root.set(
        f"{{{XSI_NS}}}schemaLocation",
        f"{TCX_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd",
    )
    acts = el(root, "Activities")
    act = el(acts, "Activity")
    act.set("Sport", "Running")
    el(act, "Id", _iso(activity.start_time))
    laps = activity.laps_or_whole()
    for i, lap in enumerate(laps):
        recs = _records_in(activity.records, lap, last=i == len(laps) - 1)
        node = el(act, "Lap")
        node.set("StartTime", _iso(_at(activity, lap.start_s)))
        el(node, "TotalTimeSeconds", f"{lap.duration_s:.1f}")
        el(node, "DistanceMeters", f"{_distance(recs) or 0.0:.1f}")
        el(node, "Calories", "0")
        avg_hr, max_hr = _hr_stats(recs)
        if avg_hr is not None and max_hr is not None:
            el(el(node, "AverageHeartRateBpm"), "Value", str(max(1, avg_hr)))
            el(el(node, "MaximumHeartRateBpm"), "Value", str(max(1, max_hr)))
        el(node, "Intensity", "Resting" if lap.is_rest else "Active")
        el(node, "TriggerMethod", "Time")
        track = el(node, "Track") if recs else node  # the schema wants at least one Trackpoint in a Track
        for r in recs:
            tp = el(track, "Trackpoint")
            el(tp, "Time", _iso(_at(activity, r.t_s)))
            if r.distance_m is not None:
                el(tp, "DistanceMeters", f"{r.distance_m:.2f}")
            if r.hr_bpm is not None and r.hr_bpm >= 1:
                el(el(tp, "HeartRateBpm"), "Value", str(min(255, round(r.hr_bpm))))
            if r.cadence_spm is not None and r.cadence_spm > 0:
                tpx = el(el(tp, "Extensions"), "TPX", ns=TCX_EXT_NS)
                el(tpx, "RunCadence", str(min(254, round(r.cadence_spm / 2.0))), ns=TCX_EXT_NS)
        if lap.label:
            el(node, "Notes", lap.label)
    if activity.notes:
        el(act, "Notes", activity.notes)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the user only (health data)."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
