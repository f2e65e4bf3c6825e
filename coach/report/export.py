"""FIT, TCX and GPX export of an :class:`coach.report.activity.Activity`.

The three files of one activity agree with each other because they are all written from the same
:meth:`~coach.report.activity.Activity.lap_slices` and :meth:`~coach.report.activity.Activity.time_at`: the same
start, the same laps covering the whole activity, every record once (FIT record = TCX trackpoint = GPX point when
it has a position), the same whole-second timestamps.

FIT is written with Garmin's FIT SDK for Python (``garmin_fit_sdk.Encoder``) following the FIT "activity file"
layout: file_id, device_info, a timer start event, 1 Hz record messages, one lap per interval (intensity ``active``
for runs, ``rest`` for walks), a timer stop event, the session and the activity message. Who wrote the file
(``file_id``/``device_info``): manufacturer ``development`` (255, the FIT profile's value for software that is not a
registered manufacturer's device), product :data:`FIT_PRODUCT`, ``product_name`` "coach", the software version, and
no serial number; docs/report.md ("Which device the file names") says why.

TCX follows Garmin's Training Center Database v2 schema (validated in the tests against
tests/data/schemas/TrainingCenterDatabasev2.xsd) with cadence and speed in the ActivityExtension v2 ``TPX`` element
and the lap averages in ``LX``.

GPX is GPX 1.1 with Garmin's TrackPointExtension v2 (``hr``, ``cad``, ``speed``), as Garmin's apps write it and
Strava reads it (GPX has no speed of its own; v1 has only ``hr`` and ``cad``, so a reader would have to derive the
speed from the positions, which is noisier than the watch's own). GPX
1.1 requires a position on every point, so only an activity with positions can be written as GPX.

Units: the app works in steps/min; FIT running cadence is strides/min as ``cadence`` (uint8) plus
``fractional_cadence`` (1/128); TCX ``RunCadence`` and GPX ``cad`` are whole strides/min.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coach import __version__
from coach.errors import InputError
from coach.report.activity import Activity, ActivityRecord
from sensors.readers.fit import deg_to_semicircles

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TCX_EXT_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
GPX_NS = "http://www.topografix.com/GPX/1/1"
GPX_TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: FIT ``manufacturer`` of the file's creator: ``development`` (255) is the FIT profile's value for software and
#: devices that are not a registered manufacturer's product. coach is neither Garmin nor a watch: naming a Garmin
#: product would make Garmin Connect and Strava show (and treat the data as from) a device that was not there.
FIT_MANUFACTURER = "development"
#: FIT ``product`` under the ``development`` manufacturer: a number of our own choosing (the profile gives the
#: development manufacturer no product list); readers show ``product_name`` beside it.
FIT_PRODUCT = 1
#: FIT ``product_name`` (file_id field 8, device_info field 27) and the GPX ``creator``.
FIT_PRODUCT_NAME = "coach"


class ExportError(InputError):
    """The activity cannot be written in the format asked for (the message says which format would do)."""


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


def _hr_stats(records: Sequence[ActivityRecord]) -> tuple[int | None, int | None]:
    hrs = [r.hr_bpm for r in records if r.hr_bpm is not None and r.hr_bpm > 0]
    if not hrs:
        return None, None
    return round(sum(hrs) / len(hrs)), round(max(hrs))


def _cadence_mean_spm(records: Sequence[ActivityRecord]) -> float | None:
    cad = [r.cadence_spm for r in records if r.cadence_spm is not None and r.cadence_spm > 0]
    return sum(cad) / len(cad) if cad else None


def _software_version() -> float:
    """coach's ``major.minor`` as FIT ``software_version`` (uint16, scale 100): 0.1.x -> 0.1 (shown as 0.10)."""
    major, minor = [*__version__.split("."), "0"][:2]
    return float(f"{major}.{minor}") if major.isdigit() and minor.isdigit() else 0.0


def to_fit_bytes(activity: Activity) -> bytes:
    """Encode ``activity`` as a FIT activity file (bytes, CRC included)."""
    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    enc = Encoder()
    start = activity.time_at(0.0)
    end = activity.time_at(activity.duration_s)
    enc.write_mesg(
        {
            "mesg_num": mesg["FILE_ID"],
            "type": "activity",
            "manufacturer": FIT_MANUFACTURER,
            "product": FIT_PRODUCT,
            "product_name": FIT_PRODUCT_NAME,
            "time_created": start,
        }
    )
    enc.write_mesg(
        {
            "mesg_num": mesg["DEVICE_INFO"],
            "timestamp": start,
            "device_index": "creator",
            "manufacturer": FIT_MANUFACTURER,
            "product": FIT_PRODUCT,
            "product_name": FIT_PRODUCT_NAME,
            "software_version": _software_version(),
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
        record: dict[str, object] = {"mesg_num": mesg["RECORD"], "timestamp": activity.time_at(r.t_s)}
        if r.has_position:
            record["position_lat"] = deg_to_semicircles(r.lat_deg or 0.0)
            record["position_long"] = deg_to_semicircles(r.lon_deg or 0.0)
        if r.hr_bpm is not None and r.hr_bpm > 0:
            record["heart_rate"] = min(254, round(r.hr_bpm))
        if r.cadence_spm is not None and r.cadence_spm >= 0:  # 0: standing, as a watch writes it
            whole, frac = spm_to_fit_cadence(r.cadence_spm)
            record["cadence"] = whole
            record["fractional_cadence"] = frac
        if r.distance_m is not None:
            record["distance"] = r.distance_m
        if r.speed_mps is not None:
            record["speed"] = r.speed_mps
        enc.write_mesg(record)
    slices = activity.lap_slices()
    for i, part in enumerate(slices):
        lap = part.lap
        avg_hr, max_hr = _hr_stats(part.records)
        lap_msg: dict[str, object] = {
            "mesg_num": mesg["LAP"],
            "message_index": i,
            "timestamp": activity.time_at(lap.end_s),
            "start_time": activity.time_at(lap.start_s),
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
        cad = _cadence_mean_spm(part.records)
        if cad is not None:
            whole, frac = spm_to_fit_cadence(cad)
            lap_msg["avg_cadence"] = whole  # avg_running_cadence is only its running-sport name (a subfield)
            lap_msg["avg_fractional_cadence"] = frac
        if part.distance_m is not None:
            lap_msg["total_distance"] = part.distance_m
            if lap.duration_s > 0:
                lap_msg["avg_speed"] = part.distance_m / lap.duration_s
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
        "num_laps": len(slices),
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
    total_m = activity.distance_m
    if total_m is not None:
        session["total_distance"] = total_m
        if activity.duration_s > 0:
            session["avg_speed"] = total_m / activity.duration_s
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
    """A timestamp as TCX and GPX write it (whole seconds: :meth:`Activity.time_at` floors every time)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _element_maker(default_ns: str) -> Callable[..., ET.Element]:
    def el(parent: ET.Element, tag: str, text: str | None = None, ns: str = default_ns) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            node.text = text
        return node

    return el


def to_tcx_bytes(activity: Activity) -> bytes:
    """Encode ``activity`` as a TCX (Training Center Database v2) document, UTF-8."""
    ET.register_namespace("", TCX_NS)
    ET.register_namespace("ax", TCX_EXT_NS)
    ET.register_namespace("xsi", XSI_NS)
    el = _element_maker(TCX_NS)

    root = ET.Element(f"{{{TCX_NS}}}TrainingCenterDatabase")
    root.set(
        f"{{{XSI_NS}}}schemaLocation",
        f"{TCX_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd",
    )
    acts = el(root, "Activities")
    act = el(acts, "Activity")
    act.set("Sport", "Running")
    el(act, "Id", _iso(activity.time_at(0.0)))
    for part in activity.lap_slices():
        lap, recs = part.lap, part.records
        node = el(act, "Lap")
        node.set("StartTime", _iso(activity.time_at(lap.start_s)))
        el(node, "TotalTimeSeconds", f"{lap.duration_s:.3f}")
        el(node, "DistanceMeters", f"{part.distance_m or 0.0:.2f}")
        el(node, "Calories", "0")
        avg_hr, max_hr = _hr_stats(recs)
        if avg_hr is not None and max_hr is not None:
            el(el(node, "AverageHeartRateBpm"), "Value", str(max(1, avg_hr)))
            el(el(node, "MaximumHeartRateBpm"), "Value", str(max(1, max_hr)))
        el(node, "Intensity", "Resting" if lap.is_rest else "Active")
        el(node, "TriggerMethod", "Time")
        if recs:  # the schema wants at least one Trackpoint in a Track
            track = el(node, "Track")
            for r in recs:
                _tcx_trackpoint(el, track, activity, r)
        if lap.label:
            el(node, "Notes", lap.label)
        lap_cad = _cadence_mean_spm(recs)
        if lap_cad is not None or (part.distance_m is not None and lap.duration_s > 0):
            lx = el(el(node, "Extensions"), "LX", ns=TCX_EXT_NS)
            if part.distance_m is not None and lap.duration_s > 0:
                el(lx, "AvgSpeed", f"{part.distance_m / lap.duration_s:.3f}", ns=TCX_EXT_NS)
            if lap_cad is not None:
                el(lx, "AvgRunCadence", str(tcx_run_cadence(lap_cad)), ns=TCX_EXT_NS)
    if activity.notes:
        el(act, "Notes", activity.notes)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def tcx_run_cadence(cadence_spm: float) -> int:
    """Steps/min -> the whole strides/min that TCX ``RunCadence`` and GPX ``cad`` hold (0-254)."""
    return max(0, min(254, round(cadence_spm / 2.0)))


def _tcx_trackpoint(
    el: Callable[..., ET.Element], track: ET.Element, activity: Activity, r: ActivityRecord
) -> None:
    tp = el(track, "Trackpoint")
    el(tp, "Time", _iso(activity.time_at(r.t_s)))
    if r.has_position:
        pos = el(tp, "Position")
        el(pos, "LatitudeDegrees", f"{r.lat_deg:.7f}")
        el(pos, "LongitudeDegrees", f"{r.lon_deg:.7f}")
    if r.distance_m is not None:
        el(tp, "DistanceMeters", f"{r.distance_m:.2f}")
    if r.hr_bpm is not None and r.hr_bpm >= 1:
        el(el(tp, "HeartRateBpm"), "Value", str(min(255, round(r.hr_bpm))))
    has_cad = r.cadence_spm is not None and r.cadence_spm >= 0
    if has_cad or r.speed_mps is not None:
        tpx = el(el(tp, "Extensions"), "TPX", ns=TCX_EXT_NS)
        if r.speed_mps is not None:
            el(tpx, "Speed", f"{r.speed_mps:.3f}", ns=TCX_EXT_NS)
        if has_cad:
            el(tpx, "RunCadence", str(tcx_run_cadence(r.cadence_spm or 0.0)), ns=TCX_EXT_NS)


def to_gpx_bytes(activity: Activity) -> bytes:
    """Encode ``activity`` as GPX 1.1 with Garmin's TrackPointExtension v2 (``hr``, ``cad`` in strides/min,
    ``speed`` in m/s), the form Garmin's apps write: one ``trkseg``, one ``trkpt`` per record with a position.

    GPX 1.1 requires ``lat`` and ``lon`` on every point, so only records with a position are written, and an
    activity without any (every coach session: a chest strap has no GPS) is refused with :class:`ExportError`.
    """
    if not any(r.has_position for r in activity.records):
        raise ExportError(
            "GPX needs a position on every point (GPX 1.1 requires lat/lon) and this session has none "
            "(a chest strap has no GPS): export FIT or TCX instead"
        )
    ET.register_namespace("", GPX_NS)
    ET.register_namespace("gpxtpx", GPX_TPX_NS)
    ET.register_namespace("xsi", XSI_NS)
    el = _element_maker(GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx")
    root.set("version", "1.1")
    root.set("creator", f"{FIT_PRODUCT_NAME} {__version__}")
    root.set(
        f"{{{XSI_NS}}}schemaLocation",
        f"{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd "
        f"{GPX_TPX_NS} http://www.garmin.com/xmlschemas/TrackPointExtensionv2.xsd",
    )
    meta = el(root, "metadata")
    el(meta, "name", activity.name)
    if activity.notes:
        el(meta, "desc", activity.notes)
    el(meta, "time", _iso(activity.time_at(0.0)))
    trk = el(root, "trk")
    el(trk, "name", activity.name)
    el(trk, "type", "running")
    # one segment, as Strava writes it: GPX has no laps, and some readers take only the first segment
    seg = el(trk, "trkseg")
    for r in activity.records:
        if not r.has_position:
            continue
        pt = el(seg, "trkpt")
        pt.set("lat", f"{r.lat_deg:.7f}")
        pt.set("lon", f"{r.lon_deg:.7f}")
        el(pt, "time", _iso(activity.time_at(r.t_s)))
        hr = r.hr_bpm is not None and r.hr_bpm >= 1
        cad = r.cadence_spm is not None and r.cadence_spm >= 0
        speed = r.speed_mps is not None and r.speed_mps >= 0
        if hr or cad or speed:
            ext = el(el(pt, "extensions"), "TrackPointExtension", ns=GPX_TPX_NS)
            if hr:
                el(ext, "hr", str(min(255, round(r.hr_bpm or 0.0))), ns=GPX_TPX_NS)
            if cad:
                el(ext, "cad", str(tcx_run_cadence(r.cadence_spm or 0.0)), ns=GPX_TPX_NS)
            if speed:  # v2 order: hr, cad, speed
                el(ext, "speed", f"{r.speed_mps:.3f}", ns=GPX_TPX_NS)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


#: The exporters by format name (``coach export --format``, which is also the file suffix).
EXPORTERS: dict[str, Callable[[Activity], bytes]] = {
    "fit": to_fit_bytes,
    "tcx": to_tcx_bytes,
    "gpx": to_gpx_bytes,
}


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the user only (health data)."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
