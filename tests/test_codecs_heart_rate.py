"""Heart Rate Measurement (0x2A37) codec: hand-built fixtures, every combination of optional fields, properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.codecs import HeartRateMeasurement
from sensors.errors import DecodeError


def test_full_measurement_by_hand() -> None:
    data = bytes(
        [
            0x1F,  # flags: uint16 HR | contact detected | contact supported | energy | RR
            0x2C, 0x01,  # HR uint16 = 300 bpm
            0x10, 0x27,  # energy expended uint16 = 10000 kJ
            0x00, 0x04,  # RR[0] = 1024 / 1024 s = 1.0 s
            0x00, 0x02,  # RR[1] = 512 / 1024 s = 0.5 s
        ]
    )  # fmt: skip
    hr = HeartRateMeasurement.from_bytes(data)
    assert hr == HeartRateMeasurement(
        bpm=300, contact=True, energy_kj=10000, rr_1024=(1024, 512), uint16=True
    )
    assert hr.rr_s == (1.0, 0.5)
    assert bytes(hr) == data


@pytest.mark.parametrize(
    ("uint16", "contact", "energy", "rr"),
    list(
        itertools.product([False, True], [None, False, True], [None, 0, 513], [(), (1,), (800, 900, 65535)])
    ),
)
def test_every_combination_of_optional_fields(
    uint16: bool, contact: bool | None, energy: int | None, rr: tuple[int, ...]
) -> None:
    bpm = 61
    flags = (1 if uint16 else 0) | {None: 0, False: 0x04, True: 0x06}[contact]
    body = bpm.to_bytes(2 if uint16 else 1, "little")  # HR, uint8 or uint16
    if energy is not None:
        flags |= 0x08
        body += energy.to_bytes(2, "little")  # energy expended, kJ
    if rr:
        flags |= 0x10
        body += b"".join(r.to_bytes(2, "little") for r in rr)  # RR intervals, 1/1024 s
    data = bytes([flags]) + body
    hr = HeartRateMeasurement.from_bytes(data)
    assert (hr.bpm, hr.contact, hr.energy_kj, hr.rr_1024, hr.uint16) == (bpm, contact, energy, rr, uint16)
    assert bytes(hr) == data


def test_contact_not_supported_is_not_no_contact() -> None:
    assert HeartRateMeasurement.from_bytes(bytes([0x00, 60])).contact is None  # bits 1-2 = 00: not supported
    assert HeartRateMeasurement.from_bytes(bytes([0x02, 60])).contact is None  # 01: still not supported
    assert HeartRateMeasurement.from_bytes(bytes([0x04, 60])).contact is False  # 10: supported, no contact
    assert HeartRateMeasurement.from_bytes(bytes([0x06, 60])).contact is True  # 11: supported, contact


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x02\x3c", id="contact-status-without-support"),
        pytest.param(b"\xe0\x3c", id="reserved-bits"),
        pytest.param(b"\x10\x3c", id="rr-flag-without-values"),
    ],
)
def test_meaningless_flag_bits_round_trip(data: bytes) -> None:
    hr = HeartRateMeasurement.from_bytes(data)
    assert hr.bpm == 60 and hr.rr_1024 == ()
    assert bytes(hr) == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x01\x3c", "announce"),  # uint16 HR but one byte
        (b"\x08\x3c\x01", "energy"),  # energy announced, one byte
        (b"\x10\x3c\x00\x04\x01", "odd"),  # odd trailing byte in the RR list
        (b"\x00\x3c\x00", "trailing"),  # bytes no flag announces
    ],
)
def test_bad_payloads_raise_decode_error(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        HeartRateMeasurement.from_bytes(data)
    assert info.value.data == data
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bpm": 256},  # uint8 format cannot hold 256
        {"bpm": -1},
        {"bpm": 70000, "uint16": True},
        {"bpm": 60, "energy_kj": 70000},
        {"bpm": 60, "rr_1024": (65536,)},
        {"bpm": 60, "contact": True, "extra_flags": 0x02},  # would contradict contact
        {"bpm": 60, "rr_1024": (1,), "extra_flags": 0x10},
        {"bpm": 60, "extra_flags": 0x01},
    ],
)
def test_out_of_range_values_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HeartRateMeasurement(**kwargs)  # type: ignore[arg-type]


def test_from_values_rounds_rr_and_picks_the_width() -> None:
    hr = HeartRateMeasurement.from_values(72, rr_s=(0.8333,), contact=True)
    assert hr.rr_1024 == (853,) and not hr.uint16
    assert HeartRateMeasurement.from_values(300).uint16


measurements = st.builds(
    lambda uint16, bpm8, bpm16, contact, energy, rr, reserved: HeartRateMeasurement(
        bpm=bpm16 if uint16 else bpm8,
        contact=contact,
        energy_kj=energy,
        rr_1024=tuple(rr),
        uint16=uint16,
        extra_flags=reserved | (0x02 if contact is None and reserved & 0x20 else 0),
    ),
    st.booleans(),
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.sampled_from([None, False, True]),
    st.none() | st.integers(0, 0xFFFF),
    st.lists(st.integers(0, 0xFFFF), max_size=9),
    st.sampled_from([0, 0x20, 0x40, 0x80, 0xE0]),
)


@given(measurements)
def test_round_trip_value_bytes_value(hr: HeartRateMeasurement) -> None:
    assert HeartRateMeasurement.from_bytes(bytes(hr)) == hr


@given(st.binary(max_size=24))
def test_random_bytes_decode_and_round_trip_or_raise_decode_error(data: bytes) -> None:
    try:
        hr = HeartRateMeasurement.from_bytes(data)
    except DecodeError:
        return
    assert bytes(hr) == data
