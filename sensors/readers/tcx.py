"""The TCX and GPX readers: Garmin Training Center Database v2 and GPX 1.1 tracks -> :class:`ActivityFile`.

**TCX** (Garmin TrainingCenterDatabase v2, the format ``coach export`` writes): one leg per ``Activity`` (its
``Sport`` attribute: ``Running`` -> running, ``Biking`` -> cycling, ``Other`` -> generic), laps from ``Lap
StartTime`` + ``TotalTimeSeconds``, the device from ``Creator/Name``. Per ``Trackpoint``: ``Time``,
``Position`` (``LatitudeDegrees``, ``LongitudeDegrees``), ``HeartRateBpm/Value``, ``DistanceMeters`` and the
ActivityExtension v2 ``TPX`` ``Speed`` and ``RunCadence``.
``RunCadence`` is strides/min (Garmin's convention, and what coach writes), so steps/min = 2 x RunCadence. A
Trackpoint ``Cadence`` (the schema's bike rpm, which some apps fill for runs) does not say steps or strides: the one
unit rule (:func:`sensors.units.cadence_unit`) decides from the step length. Without ``Speed`` it is derived from
``DistanceMeters``. The file's step total is the sum of the laps' ``LX`` ``Steps`` when every lap has one.

**GPX 1.1** (as Strava, Garmin Connect and most apps export): one leg per ``trk`` (its ``type``: ``running``,
``walking``, ``hiking``, ``cycling``..., Strava's and Garmin's words; none -> a generic activity), points from every
``trkseg``. Heart rate and cadence are the Garmin TrackPointExtension (v1 or v2) ``hr`` and ``cad``; speed is its
v2 ``speed`` (m/s) when the file has it (``coach export`` writes it), else derived from the positions (noisier: GPS
jitter between 1 Hz points). Distance is the sum of the great-circle steps between positions (GPX has no distance
field). ``cad`` for a run is the per-foot rate, strides/min (Garmin Connect and Strava write ~85 for a 170 steps/min
run): the unit rule decides from the step length (against that speed), and without enough moving points the
Garmin/Strava convention (strides) holds. The device is the ``gpx`` ``creator`` attribute.

Namespaces are matched by their local names, so TrackPointExtension v1 and v2 and any prefix are read alike. XML
is parsed by the standard library (expat refuses entity expansion attacks since 2.4.1). Problems raise
:class:`~sensors.readers.ReaderError` with one line naming the file.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from sensors.readers._common import ReaderError
from sensors.readers.activity import ActivityFile, ActivityLeg, TrackPoint
from sensors.units import CadenceUnit, cadence_unit

#: TCX ``Sport`` and GPX ``type`` words -> FIT sport names (what :mod:`sensors.readers.sport` decides on).
SPORT_WORDS = {
    "running": "running",
    "run": "running",
    "trail running": "running",
    "walking": "walking",
    "walk": "walking",
    "hiking": "hiking",
    "hike": "hiking",
    "biking": "cycling",
    "cycling": "cycling",
    "ride": "cycling",
    "bike": "cycling",
    "swimming": "swimming",
    "swim": "swimming",
    "rowing": "rowing",
    "paddling": "paddling",
    "stand_up_paddleboarding": "stand_up_paddleboarding",
    "standuppaddling": "stand_up_paddleboarding",
    "other": "generic",
    # Strava's GPX export numbers its activity types: 1 ride, 9 run, 10 walk
    "1": "cycling",
    "9": "running",
    "10": "walking",
}
#: Mean Earth radius (m), for distances between GPX positions.
EARTH_RADIUS_M = 6_371_000.0
#: GPX speed between two points further apart in time than this (s) is not computed (a pause).
MAX_SPEED_GAP_S = 10.0


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: ET.Element, *names: str) -> ET.Element | None:
    """The first descendant path ``names`` by local names (direct children at each level)."""
    cur: ET.Element | None = node
    for name in names:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    return cur


def _text(node: ET.Element | None) -> str | None:
    return node.text.strip() if node is not None and node.text and node.text.strip() else None


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _find_ext(node: ET.Element, name: str) -> str | None:
    """The text of the first descendant with local name ``name`` (extension fields: TPX/Speed, gpxtpx:hr)."""
    for el in node.iter():
        if _local(el.tag) == name:
            return _text(el)
    return None


def _parse(path: Path, root_name: str, what: str) -> ET.Element:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ReaderError(f"{path}: not a readable {what} file: {exc}") from None
    except OSError as exc:
        raise ReaderError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if _local(root.tag) != root_name:
        raise ReaderError(f"{path}: not a {what} file (the root element is <{_local(root.tag)}>)")
    return root


def _sport(word: str | None) -> str | None:
    if not word:
        return None
    return SPORT_WORDS.get(word.strip().lower(), word.strip().lower().replace(" ", "_"))


def _speeds_from_distance(times: list[datetime], dist: list[float | None]) -> list[float | None]:
    out: list[float | None] = [None] * len(times)
    for i in range(1, len(times)):
        a, b = dist[i - 1], dist[i]
        dt = (times[i] - times[i - 1]).total_seconds()
        if a is not None and b is not None and 0 < dt <= MAX_SPEED_GAP_S and b >= a:
            out[i] = (b - a) / dt
    return out


def read_tcx(path: str | Path) -> ActivityFile:
    """Read a TCX file once (see the module docstring)."""
    p = Path(path)
    root = _parse(p, "TrainingCenterDatabase", "TCX (Training Center Database)")
    activities = _child(root, "Activities")
    legs = []
    device = None
    unit_used: CadenceUnit = "strides"
    for act in [] if activities is None else [a for a in activities if _local(a.tag) == "Activity"]:
        device = device or _text(_child(act, "Creator", "Name"))
        times: list[datetime] = []
        hr: list[float | None] = []
        cad: list[float | None] = []
        bike_cad: list[float | None] = []
        spd: list[float | None] = []
        dist: list[float | None] = []
        pos: list[tuple[float, float] | None] = []
        laps: list[tuple[datetime, float]] = []
        lap_steps: list[float | None] = []
        for lap in (c for c in act if _local(c.tag) == "Lap"):
            start = _time(lap.get("StartTime"))
            total = _float(_text(_child(lap, "TotalTimeSeconds")))
            if start is not None and total is not None:
                laps.append((start, total))
            lap_steps.append(_float(_find_ext(lap, "Steps")))
            for tp in lap.iter():
                if _local(tp.tag) != "Trackpoint":
                    continue
                when = _time(_text(_child(tp, "Time")))
                if when is None:
                    continue
                times.append(when)
                hr.append(_float(_text(_child(tp, "HeartRateBpm", "Value"))))
                dist.append(_float(_text(_child(tp, "DistanceMeters"))))
                lat = _float(_text(_child(tp, "Position", "LatitudeDegrees")))
                lon = _float(_text(_child(tp, "Position", "LongitudeDegrees")))
                pos.append(None if lat is None or lon is None else (lat, lon))
                bike_cad.append(_float(_text(_child(tp, "Cadence"))))
                spd.append(_float(_find_ext(tp, "Speed")))
                cad.append(_float(_find_ext(tp, "RunCadence")))
        if not any(s is not None for s in spd):
            spd = _speeds_from_distance(times, dist)
        if any(c is not None for c in cad):
            factor = 2.0  # RunCadence: strides/min
        else:
            rows = [
                (0.0, c, s) for c, s in zip(bike_cad, spd, strict=True) if c is not None and s is not None
            ]
            decision = cadence_unit(rows)
            factor = decision.factor
            unit_used = decision.unit
            cad = bike_cad
        points = tuple(
            TrackPoint(w, h, None if c is None else c * factor, s, d, *(xy or (None, None)))
            for w, h, c, s, d, xy in zip(times, hr, cad, spd, dist, pos, strict=True)
        )
        distance = next((d for d in reversed(dist) if d is not None), None)
        steps = steps_note = None
        if lap_steps and all(s is not None for s in lap_steps):
            steps = round(sum(s for s in lap_steps if s is not None))
            steps_note = "the sum of the file's lap step counts"
        legs.append(
            ActivityLeg(
                sport=_sport(act.get("Sport")),
                sub_sport=None,
                points=points,
                laps=tuple(laps),
                distance_m=distance,
                elapsed_s=sum(e for _, e in laps) if laps else None,
                steps=steps,
                steps_note=steps_note,
            )
        )
    if not legs or not any(leg.points for leg in legs):
        raise ReaderError(f"{p}: a TCX file without any timed Trackpoint: nothing to read")
    return ActivityFile(
        path=p,
        format="tcx",
        legs=tuple(legs),
        device=device,
        product=device,
        cadence_unit=unit_used,
    )


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def read_gpx(path: str | Path) -> ActivityFile:
    """Read a GPX 1.1 file once (see the module docstring)."""
    p = Path(path)
    root = _parse(p, "gpx", "GPX")
    legs = []
    unit_used: CadenceUnit = "strides"
    for trk in (c for c in root if _local(c.tag) == "trk"):
        times: list[datetime] = []
        pos: list[tuple[float, float] | None] = []
        hr: list[float | None] = []
        cad: list[float | None] = []
        ext_spd: list[float | None] = []
        for pt in trk.iter():
            if _local(pt.tag) != "trkpt":
                continue
            when = _time(_text(_child(pt, "time")))
            if when is None:
                continue
            lat, lon = _float(pt.get("lat")), _float(pt.get("lon"))
            times.append(when)
            pos.append(None if lat is None or lon is None else (lat, lon))
            hr.append(_float(_find_ext(pt, "hr")))
            cad.append(_float(_find_ext(pt, "cad")))
            ext_spd.append(_float(_find_ext(pt, "speed")))
        dist: list[float | None] = []
        total = 0.0
        for i, here in enumerate(pos):
            prev = pos[i - 1] if i else None
            if here is not None and prev is not None:
                total += _haversine_m(prev, here)
            dist.append(total if here is not None else None)
        spd = ext_spd if any(s is not None for s in ext_spd) else _speeds_from_distance(times, dist)
        rows = [(0.0, c, s) for c, s in zip(cad, spd, strict=True) if c is not None and s is not None]
        decision = cadence_unit(rows)
        unit_used = "strides" if decision.unit == "unknown" else decision.unit
        factor = 2.0 if unit_used == "strides" else 1.0
        points = tuple(
            TrackPoint(w, h, None if c is None else c * factor, s, d, *(xy or (None, None)))
            for w, h, c, s, d, xy in zip(times, hr, cad, spd, dist, pos, strict=True)
        )
        legs.append(
            ActivityLeg(
                sport=_sport(_text(_child(trk, "type"))),
                sub_sport=None,
                points=points,
                distance_m=total if total > 0 else None,
            )
        )
    if not legs or not any(leg.points for leg in legs):
        raise ReaderError(
            f"{p}: a GPX file without any timed track point (trk/trkseg/trkpt): nothing to read"
        )
    return ActivityFile(
        path=p,
        format="gpx",
        legs=tuple(legs),
        device=root.get("creator"),
        cadence_unit=unit_used,
    )


__all__ = ["read_gpx", "read_tcx"]
