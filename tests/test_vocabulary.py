"""The shared vocabularies (coach.vocabulary, sensors.events) and the one duration formatter (coach.text)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from coach.text import hmmss, mmss
from coach.vocabulary import MODES, Mode, RecordKind, as_mode
from sensors.events import STREAM_BREAK_EVENTS, SensorEventName, event_name
from sensors.samples import SampleDecoder, SensorEvent

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0:00"),
        (59.4, "0:59"),
        (59.6, "1:00"),
        (90, "1:30"),
        (1800, "30:00"),
        (4500, "75:00"),  # minutes are not folded into hours
        (2.5, "0:02"),  # Python's round: halves to even, as every former copy did
        (-5, "-0:05"),
        (-65.2, "-1:05"),
    ],
)
def test_mmss(seconds: float, expected: str) -> None:
    assert mmss(seconds) == expected


def test_mmss_of_an_unmeasured_duration() -> None:
    assert mmss(None) == "-"
    assert mmss(None, missing="–") == "–"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0:00"),
        (90, "1:30"),
        (3599.4, "59:59"),
        (3599.6, "1:00:00"),
        (4500, "1:15:00"),
        (-3661, "-1:01:01"),
    ],
)
def test_hmmss(seconds: float, expected: str) -> None:
    assert hmmss(seconds) == expected


def test_hmmss_of_an_unmeasured_duration() -> None:
    assert hmmss(None) == "--:--"


def test_modes_are_their_strings() -> None:
    assert MODES == ("walk", "run", "still", "unknown")
    assert Mode.RUN == "run" and f"{Mode.WALK}" == "walk" and str(Mode.STILL) == "still"
    assert json.loads(json.dumps({Mode.RUN: [Mode.WALK]})) == {"run": ["walk"]}
    assert {"walk": 1}[Mode.WALK] == 1  # a plain-string key finds its member and back


@pytest.mark.parametrize(
    ("value", "expected"),
    [("run", Mode.RUN), (Mode.STILL, Mode.STILL), ("jog", Mode.UNKNOWN), (None, Mode.UNKNOWN)],
)
def test_as_mode(value: object, expected: Mode) -> None:
    assert as_mode(value) is expected


def test_every_record_kind_is_documented() -> None:
    text = (DOCS / "formats" / "events.md").read_text(encoding="utf-8")
    headed = set(re.findall(r"^### `([a-z_]+)`", text, flags=re.M)) | set(
        re.findall(r"^### `[a-z_]+` / `([a-z_]+)`", text, flags=re.M)
    )
    assert {k.value for k in RecordKind} == headed


def test_sensor_event_names_are_their_strings() -> None:
    assert SensorEventName.CONNECTED == "connected"
    assert json.dumps({"event": SensorEventName.PMD_STARTED}) == '{"event": "pmd_started"}'
    assert "disconnected" in STREAM_BREAK_EVENTS


def test_an_unknown_event_name_is_kept_as_read() -> None:
    assert event_name("pmd_started") is SensorEventName.PMD_STARTED
    assert event_name("from_a_newer_writer") == "from_a_newer_writer"
    assert not isinstance(event_name("from_a_newer_writer"), SensorEventName)


def test_the_decoder_names_recorded_events_with_the_vocabulary() -> None:
    decoder = SampleDecoder()
    [known] = decoder.feed_event(1.0, "connected", {"mtu": 232})
    [unknown] = decoder.feed_event(2.0, "something_new", {})
    assert isinstance(known, SensorEvent) and known.event is SensorEventName.CONNECTED
    assert isinstance(unknown, SensorEvent) and unknown.event == "something_new"
    [bad] = decoder.feed(3.0, "2a37", b"")
    assert isinstance(bad, SensorEvent) and bad.event is SensorEventName.DECODE_ERROR


def test_every_sensor_event_name_is_documented() -> None:
    text = (DOCS / "ble.md").read_text(encoding="utf-8") + (DOCS / "formats" / "capture.md").read_text(
        encoding="utf-8"
    )
    missing = {name.value for name in SensorEventName if f"`{name.value}`" not in text}
    assert missing == set(), f"docs/ble.md or docs/formats/capture.md should name {sorted(missing)}"
