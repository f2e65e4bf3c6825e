"""``coach capture info|decode``: look inside a capture file (docs/formats/capture.md).

Both commands read leniently: a bad line is reported on stderr (``coach: warning: FILE:LINE: reason``) and
skipped, every good record is still shown, and the command then ends with one ``coach: error:`` line naming the
first bad line and a non-zero exit (3). A torn last line, as a killed recording leaves it, is only a warning.
``--strict`` stops at the first bad line instead.

The summary and the decoded rows are built by pure functions (:func:`summarize`, :func:`decoded_rows`,
:func:`format_row`) over :mod:`sensors.capture` records and :func:`sensors.samples.decode_record`, the same
decoders a live strap goes through.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coach.text import hmmss

if TYPE_CHECKING:
    from sensors.capture import Capture, CaptureWarning, Record

#: A stream that sends nothing for longer than this has a gap (``coach capture info``).
GAP_S = 2.0


# --------------------------------------------------------------------------------------------------- pure part


def decoded_rows(records: Iterable[Record]) -> Iterator[dict[str, Any]]:
    """One JSON-able row per record: ``t``, ``char``, ``kind`` and the decoded fields.

    Payloads go through :func:`sensors.samples.decode_record` with one PMD state for the whole capture (so the
    control point traffic and ``pmd_started`` events set up the ACC frames after them). An undecodable payload
    becomes ``{"kind": "error", "reason", "hex"}`` and decoding goes on; an event becomes
    ``{"kind": "event", "event", "fields"}`` with ``char`` null.
    """
    from sensors.capture import EventRecord
    from sensors.errors import DecodeError
    from sensors.samples import PmdState, decode_record

    pmd = PmdState()
    for record in records:
        if isinstance(record, EventRecord):
            if record.event == "pmd_started":
                pmd.apply_fields(record.fields)
            yield {
                "t": record.t,
                "char": None,
                "kind": "event",
                "event": record.event,
                "fields": record.fields,
            }
            continue
        try:
            fields = decode_record(record.char, record.data, pmd)
        except DecodeError as exc:
            yield {"t": record.t, "char": record.char, "kind": "error", "reason": str(exc), "hex": record.hex}
            continue
        if fields["kind"] == "unknown":
            fields = _standard_fields(record.char, record.data) or fields
        yield {"t": record.t, "char": record.char, **fields}


def _standard_fields(char: str, data: bytes) -> dict[str, Any] | None:
    """A standard string characteristic (device name, Device Information) as ``{"kind": "text", "text"}``."""
    from sensors import uuids

    try:
        key = uuids.normalize_uuid(char)
    except ValueError:
        return None
    if key not in uuids.TEXT_CHARACTERISTICS:
        return None
    # DIS strings are UTF-8 without a terminator; some devices pad with NULs
    return {"kind": "text", "text": bytes(data).decode("utf-8", errors="replace").rstrip("\x00")}


@dataclass
class CharStats:
    """What one characteristic sent (``coach capture info``)."""

    char: str
    name: str
    count: int = 0
    first_s: float = math.inf
    last_s: float = -math.inf
    errors: int = 0
    kinds: set[str] = field(default_factory=set)
    acc_samples: int = 0
    text: str | None = None  # the (last) value of a string characteristic, e.g. the model number
    _acc_frames: list[tuple[float, int, int]] = field(default_factory=list)  # (host t, sensor ns, n samples)
    _times: list[float] = field(default_factory=list)

    @property
    def rate_hz(self) -> float | None:
        span = self.last_s - self.first_s
        return (self.count - 1) / span if self.count > 1 and span > 0 else None

    @property
    def acc_rate_hz(self) -> float | None:
        """ACC samples per second of sensor time, over consecutive frames without a gap between them."""
        samples, seconds = 0, 0.0
        for (t0, ns0, _), (t1, ns1, n1) in itertools.pairwise(self._acc_frames):
            if t1 - t0 <= GAP_S and ns1 > ns0:
                samples += n1
                seconds += (ns1 - ns0) * 1e-9
        return samples / seconds if seconds > 0 else None


def summarize(capture: Capture) -> dict[str, Any]:
    """The facts ``coach capture info`` shows, as a JSON-able dict (see ``--json``)."""
    from sensors import uuids

    streams = {uuids.HEART_RATE_MEASUREMENT, uuids.RSC_MEASUREMENT, uuids.PMD_DATA}
    stats: dict[str, CharStats] = {}
    events: list[dict[str, Any]] = []
    for row in decoded_rows(capture.records):
        if row["kind"] == "event":
            events.append({"t": row["t"], "event": row["event"], **row["fields"]})
            continue
        char = row["char"]
        s = stats.get(char)
        if s is None:
            s = stats[char] = CharStats(char=char, name=uuids.short_name(char))
        s.count += 1
        s.first_s = min(s.first_s, row["t"])
        s.last_s = max(s.last_s, row["t"])
        s._times.append(row["t"])
        s.kinds.add(row["kind"])
        if row["kind"] == "error":
            s.errors += 1
        elif row["kind"] == "text":
            s.text = row["text"]
        elif row["kind"] == "pmd_acc":
            n = len(row["samples_mg"])
            s.acc_samples += n
            s._acc_frames.append((row["t"], row["timestamp_ns"], n))

    gaps: list[dict[str, Any]] = []
    for s in stats.values():
        if s.char not in streams:
            continue  # reads and control-point replies come when asked, not as a stream
        # between records, and from the last record to the end (the stream died); not before the first record
        # (a stream starts some seconds after the connection: discovery, PMD set-up)
        edges = [*sorted(s._times), capture.end_s]
        for a, b in itertools.pairwise(edges):
            if b - a > GAP_S:
                gaps.append({"char": s.char, "name": s.name, "start_s": a, "end_s": b, "duration_s": b - a})
    gaps.sort(key=lambda g: (g["start_s"], g["name"]))

    chars = []
    for s in sorted(stats.values(), key=lambda s: (-s.count, s.name)):
        entry: dict[str, Any] = {
            "char": s.char,
            "name": s.name,
            "kinds": sorted(s.kinds),
            "count": s.count,
            "first_s": s.first_s,
            "last_s": s.last_s,
            "rate_hz": s.rate_hz,
            "decode_errors": s.errors,
        }
        if s.text is not None:
            entry["text"] = s.text
        if s._acc_frames:
            entry["acc_samples"] = s.acc_samples
            entry["acc_samples_per_s"] = s.acc_rate_hz
        chars.append(entry)

    header = capture.header
    return {
        "path": capture.path,
        "format_version": header.version,
        "created": header.created,
        "device": {"name": header.device.name, "address": header.device.address},
        "source": header.source,
        "start_s": capture.start_s,
        "end_s": capture.end_s,
        "duration_s": capture.duration_s,
        "payloads": sum(s.count for s in stats.values()),
        "events_count": len(events),
        "characteristics": chars,
        "gaps": gaps,
        "events": events,
        "warnings": [str(w) for w in capture.warnings],
    }


def _fields_text(fields: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())


def format_info(summary: Mapping[str, Any]) -> str:
    """``coach capture info`` as text."""
    device = summary["device"]
    name = device["name"] or "unknown"
    lines = [
        f"file:      {summary['path']}",
        f"device:    {name}" + (f" ({device['address']})" if device["address"] else ""),
        f"source:    {summary['source'] or '-'}",
        f"created:   {summary['created']}",
        f"duration:  {summary['duration_s']:.1f} s ({hmmss(summary['duration_s'])}), "
        f"{summary['start_s']:.2f} s to {summary['end_s']:.2f} s; "
        f"{summary['payloads']} payloads, {summary['events_count']} events",
        "",
    ]
    rows = [("characteristic", "count", "rate", "")]
    for c in summary["characteristics"]:
        rate = f"{c['rate_hz']:.2f} Hz" if c["rate_hz"] is not None else "-"
        notes = []
        if "acc_samples" in c:
            sps = c["acc_samples_per_s"]
            per_s = f"{sps:.1f} samples/s" if sps is not None else "rate unknown"
            notes.append(f"ACC {per_s} ({c['acc_samples']} samples)")
        if "text" in c:
            notes.append(json.dumps(c["text"], ensure_ascii=False))
        if c["kinds"] == ["unknown"]:
            notes.append("not decoded" if c["name"] != c["char"] else "unknown characteristic (not decoded)")
        if c["decode_errors"]:
            notes.append(f"{c['decode_errors']} undecodable")
        label = c["name"] if c["name"] != c["char"] else c["char"]
        rows.append((label, str(c["count"]), rate, "; ".join(notes)))
    if len(rows) == 1:
        lines.append("no payloads")
    else:
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        w2 = max(len(r[2]) for r in rows)
        for r in rows:
            lines.append(f"{r[0]:<{w0}}  {r[1]:>{w1}}  {r[2]:>{w2}}  {r[3]}".rstrip())
    lines.append("")
    if summary["gaps"]:
        lines.append(f"gaps (no data for more than {GAP_S:g} s):")
        for g in summary["gaps"]:
            lines.append(
                f"  {g['start_s']:9.2f} s to {g['end_s']:9.2f} s  ({g['duration_s']:.2f} s)  {g['name']}"
            )
    else:
        lines.append(f"gaps: none (no stream went quiet for more than {GAP_S:g} s)")
    lines.append("")
    if summary["events"]:
        lines.append("events:")
        for e in summary["events"]:
            extra = {k: v for k, v in e.items() if k not in ("t", "event")}
            lines.append(f"  {e['t']:9.3f} s  {e['event']}  {_fields_text(extra)}".rstrip())
    else:
        lines.append("events: none")
    if summary["warnings"]:
        lines.append("")
        lines.append("warnings:")
        lines.extend(f"  {w}" for w in summary["warnings"])
    return "\n".join(lines)


def _num(value: float | None, fmt: str, unit: str) -> str:
    return "-" if value is None else f"{value:{fmt}} {unit}"


def format_row(row: Mapping[str, Any]) -> str:
    """One decoded row as a readable line (``coach capture decode`` without ``--json``)."""
    from sensors import uuids

    t = f"{row['t']:10.3f}"
    kind = row["kind"]
    if kind == "event":
        return f"{t}  event  {row['event']}  {_fields_text(row['fields'])}".rstrip()
    name = uuids.short_name(row["char"])
    if kind == "heart_rate":
        contact = {True: "contact", False: "NO contact", None: "contact n/a"}[row["contact"]]
        rr = ", ".join(f"{x:.3f}" for x in row["rr_s"])
        text = f"{row['bpm']} bpm  {contact}"
        text += f"  rr [{rr}] s" if rr else ""
        text += f"  energy {row['energy_kj']} kJ" if row["energy_kj"] is not None else ""
    elif kind == "rsc":
        text = (
            f"{row['speed_mps']:.3f} m/s  {row['cadence_per_min']} /min  "
            f"stride {_num(row['stride_length_m'], '.2f', 'm')}  "
            f"distance {_num(row['total_distance_m'], '.1f', 'm')}  {'running' if row['running'] else 'walking'}"
        )
    elif kind == "pmd_acc":
        samples = row["samples_mg"]
        first = f"  first {samples[0]} mG  last {samples[-1]} mG" if samples else ""
        text = f"sensor time {row['timestamp_ns']} ns  {len(samples)} samples{first}"
    elif kind == "pmd_control":
        if row.get("message") == "features":
            text = f"features: {', '.join(row['measurement_types'])}"
        else:
            text = f"{row['message']} {row['op_name']} {row['type_name']}"
            if row.get("status_name") is not None:
                text += f": {row['status_name']} ({row['status_text']})"
            if row.get("settings"):
                text += f"  settings {json.dumps(row['settings'])}"
    elif kind == "error":
        text = f"{row['reason']}"
    elif kind == "text":
        text = json.dumps(row["text"], ensure_ascii=False)
    elif kind == "unknown" and name != row["char"]:  # a standard characteristic coach does not decode
        text = f"not decoded  {row['hex'] or '(empty)'}"
    elif kind == "unknown":
        text = f"unknown characteristic {row['char']}  {row['hex'] or '(empty)'}"
        name = "?"
    else:
        rest = {k: v for k, v in row.items() if k not in ("t", "char", "kind")}
        text = _fields_text(rest)
    return f"{t}  {name}  {kind}  {text}".rstrip()


# --------------------------------------------------------------------------------------------------- shell


def _warn(warning: CaptureWarning) -> None:
    click.echo(f"coach: warning: {warning}", err=True)


def _fail_on_skipped(path: str, warnings: Sequence[CaptureWarning]) -> None:
    """After the output: a file with skipped bad lines ends in one error line and exit code 3."""
    from sensors.errors import CaptureError

    skipped = [w for w in warnings if not w.torn]
    if skipped:
        first = skipped[0]
        more = f" ({len(skipped)} bad lines in all)" if len(skipped) > 1 else ""
        raise CaptureError(path, first.line, f"{first.reason}{more}; the other records were read")


def _echo_lines(lines: Iterable[str]) -> None:
    """Print lines to stdout; a reader that goes away (``| head``) ends the command quietly."""
    out = sys.stdout
    try:
        for line in lines:
            out.write(line + "\n")
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


_strict = click.option("--strict", is_flag=True, help="Stop at the first bad line instead of skipping it.")
_file = click.argument("file", type=click.Path(path_type=Path))


@click.group()
def capture() -> None:
    """Inspect and decode capture files (recorded raw sensor traffic).

    A capture file holds every notification a sensor sent in a session, byte for byte, with its arrival time
    (format: docs/formats/capture.md). `coach record` and every session write one; `coach convert` makes
    them from other recordings.
    """


@capture.command()
@_file
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@_strict
def info(file: Path, as_json: bool, strict: bool) -> None:
    """Summarise FILE: device, duration, rates, gaps, events.

    Standard characteristics are named (sensors/uuids.py), and the device name and Device Information strings
    (manufacturer, model, serial number, firmware, hardware, software) are shown with their value.

    Per characteristic: how many notifications and their rate; for the Polar accelerometer also the samples
    per second (measured on the strap's own clock). A gap is a heart-rate, RSC or accelerometer stream that
    sent nothing for more than 2 s (a drop-out, or the strap not worn). Bad lines are listed under warnings,
    and the command then fails (exit 3) naming the first; a torn last line is only a warning.
    """
    from sensors.capture import read_capture

    cap = read_capture(file, lenient=not strict, log_warnings=False)
    summary = summarize(cap)
    if as_json:
        _echo_lines([json.dumps(summary, ensure_ascii=False, indent=2)])
    else:
        _echo_lines(format_info(summary).splitlines())
    _fail_on_skipped(cap.path, cap.warnings)


@capture.command()
@_file
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
@_strict
def decode(file: Path, as_json: bool, strict: bool) -> None:
    """Decode every record of FILE, one line each.

    With --json each line is an object with `t`, `char`, `kind` and the decoded fields, units in the names:
    heart_rate (`bpm`, `rr_s`, `energy_kj`, `contact`), rsc (`speed_mps`, `cadence_per_min`, `stride_length_m`,
    `total_distance_m`, `running`), pmd_acc (`timestamp_ns`, `samples_mg`), pmd_control, battery, text (`text`: device name and Device Information strings), unknown,
    event (`event`, `fields`). A payload that cannot be decoded gives kind `error` with a `reason`, and
    decoding goes on. A bad line is reported on stderr and skipped; after the output the command fails
    (exit 3) naming the first one. A torn last line is only a warning.
    """
    from sensors.capture import CaptureReader

    reader = CaptureReader(file, lenient=not strict, log_warnings=False)
    with reader:
        shown = 0

        def records() -> Iterator[Record]:
            nonlocal shown
            for record in reader:
                while shown < len(reader.warnings):
                    _warn(reader.warnings[shown])
                    shown += 1
                yield record

        rows = decoded_rows(records())
        if as_json:
            _echo_lines(json.dumps(row, ensure_ascii=False) for row in rows)
        else:
            _echo_lines(format_row(row) for row in rows)
        for warning in reader.warnings[shown:]:
            _warn(warning)
    _fail_on_skipped(reader.path, reader.warnings)
