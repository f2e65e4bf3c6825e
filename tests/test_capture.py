"""Capture files (docs/formats/capture.md): the writer, the strict and lenient reader, and their properties."""

from __future__ import annotations

import itertools
import json
import os
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors import capture as capture_mod
from sensors.capture import (
    FORMAT_VERSION,
    CaptureReader,
    CaptureWriter,
    DeviceInfo,
    EventRecord,
    PayloadRecord,
    iter_capture,
    read_capture,
)
from sensors.clock import FakeClock
from sensors.errors import CaptureError
from sensors.uuids import HEART_RATE_MEASUREMENT, PMD_DATA, RSC_MEASUREMENT, normalize_uuid

HEADER = {
    "format": "coach-capture",
    "version": 1,
    "created": "2026-11-26T10:00:00+00:00",
    "device": {"name": "Polar H10 ABCD1234", "address": "AA:BB:CC:DD:EE:FF"},
    "source": "test",
}
HR = HEART_RATE_MEASUREMENT


def write_lines(path: Path, *lines: str | dict[str, object], end: str = "\n") -> Path:
    """A capture file from raw lines (dicts are dumped as JSON); ``end`` follows the last line."""
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines)
    path.write_text(text + end, encoding="utf-8")
    return path


def rec(t: float, hex_: str = "0048", char: str = HR) -> dict[str, object]:
    return {"t": t, "char": char, "hex": hex_}


# ------------------------------------------------------------------------------------------------- writer


def test_writer_writes_header_records_and_events(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    created = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    with CaptureWriter(
        path, device={"name": "H10", "address": "AA"}, source="unit test", created=created
    ) as w:
        w.event(0.0, "connected", address="AA")
        w.payload(0.25, "2A37", b"\x16\x48\x54\x01")
        w.payload(0.5, 0x2A53, bytearray(b"\x00\x0a\x00\x14"))
        w.payload(0.75, PMD_DATA.upper(), memoryview(b""))
        w.event(1.0, "disconnected", reason="timeout")
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "format": "coach-capture",
        "version": FORMAT_VERSION,
        "created": "2026-11-26T10:00:00+00:00",
        "device": {"name": "H10", "address": "AA"},
        "source": "unit test",
    }
    assert lines[1] == {"t": 0.0, "event": "connected", "address": "AA"}
    assert lines[2] == {"t": 0.25, "char": HR, "hex": "16485401"}
    assert lines[3] == {"t": 0.5, "char": RSC_MEASUREMENT, "hex": "000a0014"}
    assert lines[4] == {"t": 0.75, "char": PMD_DATA, "hex": ""}
    assert lines[5] == {"t": 1.0, "event": "disconnected", "reason": "timeout"}
    assert w.records_written == 5 and w.closed


def test_writer_files_are_user_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "c.jsonl"
    old_umask = os.umask(0o022)
    try:
        CaptureWriter(path).close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode) == 0o700


def test_writer_leaves_existing_folder_modes_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    CaptureWriter(tmp_path / "c.jsonl").close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_writer_refuses_to_replace_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("precious\n")
    path.chmod(0o644)
    with pytest.raises(FileExistsError):
        CaptureWriter(path)
    assert path.read_text() == "precious\n"
    CaptureWriter(path, overwrite=True).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_capture(path).records == []


@pytest.mark.parametrize("t", [-0.1, float("nan"), float("inf"), True, "1.0", None])
def test_writer_rejects_bad_times(tmp_path: Path, t: object) -> None:
    with CaptureWriter(tmp_path / "c.jsonl") as w, pytest.raises(ValueError, match="t must be"):
        w.payload(t, HR, b"\x00\x48")  # type: ignore[arg-type]


def test_writer_rejects_time_going_back_and_bad_values_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path) as w:
        w.payload(10.0, HR, b"\x00\x48")
        w.payload(9.6, HR, b"\x00\x49")  # within the tolerance: out-of-order callbacks happen
        with pytest.raises(ValueError, match="goes back"):
            w.payload(9.0, HR, b"\x00\x4a")
        with pytest.raises(ValueError, match="not JSON"):
            w.event(11.0, "note", value=object())
        with pytest.raises(ValueError, match=r"NaN|JSON"):
            w.event(11.0, "note", value=float("nan"))
        with pytest.raises(ValueError, match=r"named"):
            w.event(11.0, "note", **{"t": 3})
        with pytest.raises(ValueError, match=r"named \['hex'\]"):
            w.event(11.0, "note", hex="00")
        with pytest.raises(ValueError, match="UUID"):
            w.payload(11.0, "heart rate", b"")
    assert [r.t for r in read_capture(path).records] == [10.0, 9.6]


def test_writer_after_close_raises(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path / "c.jsonl")
    w.close()
    w.close()  # twice is harmless
    with pytest.raises(ValueError, match="closed"):
        w.payload(0.0, HR, b"\x00\x48")


def test_writer_rounds_t_to_microseconds(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path) as w:
        w.payload(1.23456789, HR, b"\x00\x48")
    assert read_capture(path).records[0].t == 1.234568


def test_every_record_reaches_the_os_at_once_and_fsync_runs_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[float] = []
    clock = FakeClock(100.0)
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(clock.now()))
    path = tmp_path / "c.jsonl"
    w = CaptureWriter(path, clock=clock)
    assert synced == [100.0]  # the header
    for i in range(50):  # 50 records over 5 s at 10 Hz
        w.payload(i * 0.1, HR, b"\x00\x48")
        # a killed process would leave everything written so far: another reader sees it now
        assert len(read_capture(path).records) == i + 1
        clock.advance(0.1)
    # at most one fsync per second of clock time, and at least one per second while records keep coming
    gaps = [b - a for a, b in itertools.pairwise(synced)]
    assert gaps and all(g >= 1.0 - 1e-9 for g in gaps)
    assert all(g <= 1.1 + 1e-9 for g in gaps)
    assert w.syncs == len(synced)
    n = len(synced)
    w.event(5.0, "disconnected")  # events are synced at once
    assert len(synced) == n + 1
    assert not w.sync_if_due()
    clock.advance(1.0)
    assert w.sync_if_due() and len(synced) == n + 2
    w.close()
    assert len(synced) == n + 3


# ------------------------------------------------------------------------------------------------- reader


def test_reader_reads_what_the_writer_wrote(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, device=DeviceInfo("H10", None), source="s") as w:
        w.event(0.0, "pmd_started", measurement="acc", sample_rate_hz=100)
        w.payload(0.1, HR, b"\x10\x00\xff\xff")
    cap = read_capture(path)
    assert cap.header.device == DeviceInfo("H10", None)
    assert cap.header.source == "s" and cap.header.version == 1 and cap.header.extra == {}
    assert cap.records == [
        EventRecord(0.0, "pmd_started", {"measurement": "acc", "sample_rate_hz": 100}, line=2),
        PayloadRecord(0.1, HR, b"\x10\x00\xff\xff", line=3),
    ]
    assert cap.warnings == []
    assert cap.duration_s == pytest.approx(0.1)
    assert cap.payloads[0].hex == "1000ffff" and cap.events[0].event == "pmd_started"


def test_reader_tolerates_what_the_format_allows(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "c.jsonl",
        "\ufeff" + json.dumps({**HEADER, "notes": "header keys this version does not know are kept"}),
        rec(0, "00FF", char="2A37"),  # short UUID and upper-case hex are read (writers write the full form)
        "",  # blank lines are skipped
        {"t": 1, "char": HR, "hex": "00ff", "rssi_dbm": -60},  # unknown record keys are ignored
        {"t": 2, "event": "some_future_event", "x": [1, 2]},
        rec(3.0, char="0000ffff-0000-1000-8000-00805f9b34fb"),  # unknown characteristic: not a reader error
        end="\r\n",
    )
    cap = read_capture(path)
    assert cap.header.extra == {"notes": "header keys this version does not know are kept"}
    assert [r.line for r in cap.records] == [2, 4, 5, 6]
    first = cap.records[0]
    assert isinstance(first, PayloadRecord) and first.char == HR and first.data == b"\x00\xff"
    assert cap.records[2] == EventRecord(2.0, "some_future_event", {"x": [1, 2]}, line=5)
    assert cap.warnings == []


def test_torn_last_line_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_lines(
        tmp_path / "c.jsonl", HEADER, rec(0.0), rec(0.5), '{"t": 1.0, "char": "00002a37-00', end=""
    )
    cap = read_capture(path)
    assert [r.t for r in cap.records] == [0.0, 0.5]
    assert len(cap.warnings) == 1
    assert str(cap.warnings[0]).startswith(f"{path}:4: torn last line")
    assert "torn last line" in caplog.text


def test_torn_multibyte_character_on_last_line_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    good = write_lines(path, HEADER, rec(0.0)).read_bytes()
    path.write_bytes(good + '{"t": 1.0, "event": "note", "text": "caf\u00e9'.encode()[:-1])
    cap = read_capture(path)
    assert len(cap.records) == 1 and "torn" in cap.warnings[0].reason


def test_complete_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(0.0), rec(0.5), end="")
    cap = read_capture(path)
    assert len(cap.records) == 2 and cap.warnings == []


BAD_LINES = [
    ('{"t": 1.0, "char": "2a37", "hex": "00ff"', "bad JSON"),
    ("[1, 2]", "expected a JSON object, got an array"),
    ('{"char": "2a37", "hex": "00ff"}', 'missing field "t"'),
    ('{"t": "1.0", "char": "2a37", "hex": "00ff"}', '"t" is not a number'),
    ('{"t": true, "char": "2a37", "hex": "00ff"}', '"t" is not a number'),
    ('{"t": NaN, "char": "2a37", "hex": "00ff"}', "bad JSON"),
    ('{"t": 1e999, "char": "2a37", "hex": "00ff"}', "not a finite number"),
    ('{"t": -1, "char": "2a37", "hex": "00ff"}', "negative"),
    ('{"t": 1.0, "hex": "00ff"}', 'missing field "char"'),
    ('{"t": 1.0, "char": 10807, "hex": "00ff"}', '"char" is not a string'),
    ('{"t": 1.0, "char": "heart", "hex": "00ff"}', "not a Bluetooth UUID"),
    ('{"t": 1.0, "char": "2a37", "hex": "00f"}', "bad hex: odd number of digits"),
    ('{"t": 1.0, "char": "2a37", "hex": "00zz"}', "bad hex: 'z' is not a hex digit"),
    ('{"t": 1.0, "char": "2a37", "hex": "00 ff"}', "bad hex"),
    ('{"t": 1.0, "char": "2a37", "hex": 255}', "bad hex"),
    ('{"t": 1.0, "char": "2a37"}', 'missing field: a record needs "hex"'),
    ('{"t": 1.0, "char": "2a37", "hex": "00", "event": "x"}', "not both"),
    ('{"t": 1.0, "event": ""}', "non-empty string"),
    ('{"t": 1.0, "event": 3}', "non-empty string"),
    ('{"t": 0.2, "char": "2a37", "hex": "00ff"}', "t goes backwards from 5 s to 0.2 s"),
    ("[" * 100_000, "bad JSON"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_bad_line_is_an_error_naming_file_line_and_reason(tmp_path: Path, line: str, reason: str) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(5.0), line, rec(6.0))
    with pytest.raises(CaptureError) as info:
        read_capture(path)
    assert info.value.path == str(path) and info.value.line == 3
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path}:3: ")


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_lenient_reader_skips_bad_lines_with_a_warning(tmp_path: Path, line: str, reason: str) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(5.0), line, rec(6.0))
    cap = read_capture(path, lenient=True)
    assert [r.t for r in cap.records] == [5.0, 6.0]
    assert len(cap.warnings) == 1 and cap.warnings[0].line == 3
    assert reason in cap.warnings[0].reason and "skipped" in cap.warnings[0].reason


def test_bad_json_on_last_line_with_newline_is_not_torn(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(0.0), '{"t": 1.0, "char"')
    with pytest.raises(CaptureError, match=r":3: bad JSON"):
        read_capture(path)


def test_binary_and_non_utf8_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(json.dumps(HEADER).encode() + b"\n" + b'{"t": 1, "event": "x\xff"}\n')
    with pytest.raises(CaptureError, match=r":2: not UTF-8 text"):
        read_capture(path)
    path.write_bytes(json.dumps(HEADER).encode() + b"\n" + b"\x00\x01\x02\n")
    with pytest.raises(CaptureError, match=r":2: binary data"):
        read_capture(path)


HEADER_CASES = [
    (b"", None, "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "not a capture file"),
    (b"\xff\xfe{\x00}\x00\n", 1, "not a capture file"),
    (b"hello world\n", 1, "not a capture file"),
    (b'{"format": "coach-capt', 1, "header line is incomplete"),
    (b'{"format": "other", "version": 1}\n', 1, "not a coach capture (format is 'other'"),
    (b'{"version": 1}\n', 1, 'not a coach capture (no "format" field'),
    (b'{"format": "coach-capture", "version": 2, "created": 0}\n', 1, "made by a newer coach"),
    (b'{"format": "coach-capture", "version": "1"}\n', 1, '"version" must be a whole number'),
    (b'{"format": "coach-capture", "version": 0}\n', 1, '"version" must be a whole number'),
    (b'{"format": "coach-capture", "version": 1}\n', 1, 'missing field "created" in the header'),
    (
        b'{"format": "coach-capture", "version": 1, "created": "yesterday", "device": {}, "source": ""}\n',
        1,
        "not an ISO-8601 time",
    ),
    (
        b'{"format": "coach-capture", "version": 1, "created": "2026-01-01", "device": "H10", "source": ""}\n',
        1,
        '"device" must be an object',
    ),
    (
        b'{"format": "coach-capture", "version": 1, "created": "2026-01-01", "device": {"name": 3}, '
        b'"source": ""}\n',
        1,
        '"device.name" must be a string or null',
    ),
    (
        b'{"format": "coach-capture", "version": 1, "created": "2026-01-01", "device": {}, "source": null}\n',
        1,
        '"source" must be a string',
    ),
]


@pytest.mark.parametrize(("content", "line", "reason"), HEADER_CASES)
@pytest.mark.parametrize("lenient", [False, True])
def test_header_problems_are_always_errors(
    tmp_path: Path, content: bytes, line: int | None, reason: str, lenient: bool
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(content + json.dumps(rec(0.0)).encode() + b"\n" if content.endswith(b"\n") else content)
    with pytest.raises(CaptureError) as info:
        read_capture(path, lenient=lenient)
    assert info.value.line == line
    assert reason in info.value.reason


def test_newer_version_says_upgrade(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", {**HEADER, "version": FORMAT_VERSION + 1}, {"whatever": 1})
    with pytest.raises(CaptureError, match=r"newer coach.*upgrade"):
        read_capture(path)


def test_missing_unreadable_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        read_capture(tmp_path / "nope.jsonl")
    with pytest.raises(CaptureError, match="is a folder"):
        read_capture(tmp_path)
    path = write_lines(tmp_path / "c.jsonl", HEADER)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # running as root: permissions do not apply
            pytest.skip("root can read anything")
        with pytest.raises(CaptureError, match="permission denied"):
            read_capture(path)
    finally:
        path.chmod(0o600)


def test_overlong_line_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_mod, "MAX_LINE_BYTES", 300)
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(0.0, "00" * 200))
    with pytest.raises(CaptureError, match=":2: line longer than 300 bytes"):
        read_capture(path)


def test_iter_capture_streams_and_collects_warnings(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(0.0), "oops", rec(1.0), '{"t": 2', end="")
    warnings: list[capture_mod.CaptureWarning] = []
    stream = iter_capture(path, lenient=True, warnings=warnings)
    first = next(stream)
    assert first.t == 0.0 and warnings == []  # nothing read past what was asked for yet
    assert [r.t for r in stream] == [1.0]
    assert [(w.line, w.torn, "torn" in w.reason) for w in warnings] == [(3, False, False), (5, True, True)]
    with pytest.raises(CaptureError, match=":3: bad JSON"):
        list(iter_capture(path))


def test_capture_reader_gives_header_before_records(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", HEADER, rec(0.0))
    with CaptureReader(path) as reader:
        assert reader.header.device.name == "Polar H10 ABCD1234"
        assert len(list(reader)) == 1
        with pytest.raises(RuntimeError):
            list(reader)


# ------------------------------------------------------------------------------------------------- properties

uuids = st.one_of(
    st.sampled_from([HR, RSC_MEASUREMENT, PMD_DATA]),
    st.integers(0, 0xFFFFFFFF),
    st.uuids().map(str),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
field_names = st.text(min_size=1, max_size=10).filter(lambda k: k not in {"t", "event", "hex"})
event_fields = st.dictionaries(field_names, json_scalars | st.lists(json_scalars, max_size=3), max_size=3)
steps = st.lists(
    st.tuples(
        st.floats(0, 10, allow_nan=False),
        st.one_of(
            st.tuples(st.just("payload"), uuids, st.binary(max_size=300)),
            st.tuples(st.just("event"), st.text(min_size=1, max_size=20), event_fields),
        ),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=steps,
    name=st.none() | st.text(max_size=20),
    address=st.none() | st.text(max_size=20),
    source=st.text(max_size=40),
)
def test_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[float, tuple[str, object, object]]],
    name: str | None,
    address: str | None,
    source: str,
) -> None:
    path = tmp_path_factory.mktemp("rt") / "c.jsonl"
    expected: list[tuple[str, float, object, object]] = []
    t = 0.0
    with CaptureWriter(path, device=DeviceInfo(name, address), source=source) as w:
        for dt, (kind, a, b) in steps:
            t += dt
            if kind == "payload":
                w.payload(t, a, b)  # type: ignore[arg-type]
                expected.append(("payload", round(t, 6), normalize_uuid(a), b))  # type: ignore[arg-type]
            else:
                w.event(t, a, **b)  # type: ignore[arg-type]
                expected.append(("event", round(t, 6), a, b))
    cap = read_capture(path)
    assert cap.warnings == []
    assert cap.header.device == DeviceInfo(name, address) and cap.header.source == source
    got: list[tuple[str, float, object, object]] = [
        ("payload", r.t, r.char, r.data)
        if isinstance(r, PayloadRecord)
        else ("event", r.t, r.event, r.fields)
        for r in cap.records
    ]
    assert got == expected


def _valid_capture_bytes() -> bytes:
    lines = [json.dumps(HEADER)]
    lines += [json.dumps(rec(i * 0.5, f"{i:02x}ff")) for i in range(4)]
    lines.append(json.dumps({"t": 2.5, "event": "disconnected", "reason": "timeout"}))
    return ("\n".join(lines) + "\n").encode()


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate"]),
        st.integers(0, 10_000),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    for op, pos, junk in ops:
        i = pos % (len(data) + 1)
        if op == "flip" and data:
            i = min(i, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ junk[0] or 1]) + data[i + 1 :]
        elif op == "insert":
            data = data[:i] + junk + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + len(junk) :]
        else:
            data = data[:i]
    return data


def _read_both_ways(path: Path) -> None:
    for lenient in (False, True):
        try:
            cap = read_capture(path, lenient=lenient)
        except CaptureError as exc:
            assert exc.reason and str(exc).startswith(str(path))
        else:
            for r in cap.records:
                assert isinstance(r, PayloadRecord | EventRecord)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=mutations)
def test_mutated_files_only_raise_capture_error(tmp_path: Path, ops: list[tuple[str, int, bytes]]) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(_mutate(_valid_capture_bytes(), ops))
    _read_both_ways(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.lists(st.text(alphabet='{}[]",:0123456789.tcharexvn -e\\', max_size=60), max_size=6).map(
            lambda ls: (json.dumps(HEADER) + "\n" + "\n".join(ls)).encode()
        ),
    )
)
def test_random_files_only_raise_capture_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(data)
    _read_both_ways(path)


# ------------------------------------------------------------------------------------------------- the docs

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats" / "capture.md"


def doc_example() -> str:
    """The ```jsonl example of docs/formats/capture.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("```jsonl\n") + len("```jsonl\n")
    return text[start : text.index("```", start)]


def test_the_documented_example_is_a_valid_capture(tmp_path: Path) -> None:
    path = tmp_path / "example.jsonl"
    path.write_text(doc_example(), encoding="utf-8")
    cap = read_capture(path)
    assert cap.warnings == []
    assert cap.header.device == DeviceInfo("Polar H10 ABCD1234", "AA:BB:CC:DD:EE:FF")
    assert [e.event for e in cap.events] == ["connected", "pmd_started", "disconnected"]
    assert [p.hex for p in cap.payloads] == ["f00202000001", "16485401ec02", "02000550ffff0001", "06ff"]
    # every event name the example uses is in the documented table
    documented = DOC.read_text(encoding="utf-8").split("### Event names")[1].split("###")[0]
    assert all(f"| `{e.event}` |" in documented for e in cap.events)


def test_a_killed_writer_loses_nothing_it_wrote(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of a recording: every record it wrote is readable, the header too."""
    path = tmp_path / "killed.jsonl"
    code = (
        "import sys\n"
        "from sensors.capture import CaptureWriter\n"
        f"w = CaptureWriter({str(path)!r}, source='kill test')\n"
        "w.event(0.0, 'connected')\n"
        "for i in range(500):\n"
        "    w.payload(0.01 * i, '2a37', bytes([0, i % 256]))\n"
        "print('written', flush=True)\n"
        "sys.stdin.read()\n"  # wait, file still open, until killed
    )
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "written\n"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    cap = read_capture(path)
    assert cap.header.source == "kill test" and cap.warnings == []
    assert len(cap.payloads) == 500 and cap.payloads[-1].data == bytes([0, 499 % 256])
