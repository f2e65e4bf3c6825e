"""Every vector of tests/data/ble-vectors/ble_test_vectors.json against our codecs.

``expected_asserted`` (what the source states) is the primary expectation, ``reference_*`` (an independent
decoder) the secondary one. Every asserted key is mapped explicitly: an unknown key fails the test, so no vector
is silently skipped. Where a source contradicts itself (noted in the file), the bytes win and a comment says so.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from sensors.codecs import (
    HeartRateMeasurement,
    MeasurementType,
    PmdDataFrame,
    PmdFeatures,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    RscMeasurement,
    decode_acc,
    decode_delta_samples,
    decode_ecg,
    delta_blocks,
    parse_control_point,
)
from sensors.codecs.pmd import acc_wire_samples, nominal_timestamps, spread_timestamps
from sensors.errors import DecodeError
from tests.realdata import BLE_VECTORS

VECTORS: dict[str, Any] = json.loads(BLE_VECTORS.read_text(encoding="utf-8"))

# The vectors file's setting names -> PmdSettings.as_dict() keys.
SETTING_NAMES = {
    "SAMPLE_RATE": "sample_rate_hz",
    "RESOLUTION": "resolution_bits",
    "RANGE": "range",
    "RANGE_MILLIUNIT": "range_milliunit",
    "CHANNELS": "channels",
    "FACTOR": "factor",
}


def _section(name: str) -> list[Any]:
    items = VECTORS.get(name, [])
    return [pytest.param(v, id=v.get("id", str(i))) for i, v in enumerate(items)]


def _data(v: dict[str, Any]) -> bytes:
    return bytes.fromhex(v["hex"])


def _settings_dict(settings: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {SETTING_NAMES[k]: v for k, v in settings.items()}


def test_the_file_has_every_section() -> None:
    for name in (
        "heart_rate_measurement_2a37",
        "rsc_measurement_2a53",
        "pmd_control_point_exchanges",
        "pmd_settings_tlv",
        "pmd_data_frames",
    ):
        assert VECTORS[name], name


# ---------------------------------------------------------------------------------------------------------------
# Heart Rate Measurement 0x2A37
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("v", _section("heart_rate_measurement_2a37"))
def test_heart_rate_vector(v: dict[str, Any]) -> None:
    data = _data(v)
    hr = HeartRateMeasurement.from_bytes(data)
    assert bytes(hr) == data  # round trip, including the uint8/uint16 choice and ignored flag bits
    for key, want in v["expected_asserted"].items():
        if key == "hr_bpm":
            assert hr.bpm == want
        elif key == "sensor_contact":
            assert hr.contact is want
        elif key == "sensor_contact_supported":
            assert hr.contact_supported is want
        elif key == "sensor_worn":
            assert hr.contact is want
        elif key == "energy_expended_kj":
            assert hr.energy_kj == want
        elif key == "energy_expended":
            assert want == "absent" and hr.energy_kj is None
        elif key == "rr_1024":
            assert list(hr.rr_1024) == want
        elif key == "rr_ms_int":
            # The SDK truncates raw * 1000 / 1024 to an int.
            assert [math.trunc(r * 1000) for r in hr.rr_s] == want
        elif key == "rr_s":
            assert list(hr.rr_s) == pytest.approx(want, abs=1e-12)
        else:
            pytest.fail(f"unmapped asserted key {key!r}")
    ref = v["reference_decode"]
    assert data[0] == ref["flags"]
    assert hr.uint16 is ref["hr_format_uint16"]
    assert hr.contact_supported is ref["sensor_contact_supported"]
    assert hr.contact is ref["sensor_contact_detected"]
    assert hr.bpm == ref["hr_bpm"]
    assert hr.energy_kj == ref["energy_expended_kj"]
    assert list(hr.rr_1024) == ref["rr_1024"]
    assert [r * 1000 for r in hr.rr_s] == pytest.approx(ref["rr_ms_exact"], abs=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# RSC Measurement 0x2A53
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("v", _section("rsc_measurement_2a53"))
def test_rsc_vector(v: dict[str, Any]) -> None:
    data = _data(v)
    rsc = RscMeasurement.from_bytes(data)
    assert bytes(rsc) == data
    for key, want in v["expected_asserted"].items():
        if key == "stride_length_present":
            assert (rsc.stride_length_m is not None) is want
        elif key == "total_distance_present":
            assert (rsc.total_distance_m is not None) is want
        elif key == "running":
            assert rsc.running is want
        elif key == "speed_raw":
            assert round(rsc.speed_mps * 256) == want
        elif key == "cadence":
            assert rsc.cadence_per_min == want
        elif key == "stride_length_raw":
            # The SDK reports 0 for an absent field; we report None ("not sent" is not "zero").
            assert (0 if rsc.stride_length_m is None else round(rsc.stride_length_m * 100)) == want
        elif key == "total_distance_raw":
            assert (0 if rsc.total_distance_m is None else round(rsc.total_distance_m * 10)) == want
        elif key == "speed_mps":
            assert rsc.speed_mps == pytest.approx(want)
        elif key == "total_distance_m":
            assert rsc.total_distance_m == pytest.approx(want)
        else:
            pytest.fail(f"unmapped asserted key {key!r}")
    ref = v["reference_decode_scaled"]
    assert data[0] == ref["flags"]
    assert rsc.speed_mps == pytest.approx(ref["speed_mps"])
    assert rsc.cadence_per_min == ref["cadence_spm"]
    assert rsc.stride_length_m == (None if ref["stride_m"] is None else pytest.approx(ref["stride_m"]))
    assert rsc.total_distance_m == (None if ref["distance_m"] is None else pytest.approx(ref["distance_m"]))
    assert rsc.running is ref["running"]


# ---------------------------------------------------------------------------------------------------------------
# PMD control point
# ---------------------------------------------------------------------------------------------------------------

# Feature reads have no reference decode; the expectation is the vector's "meaning" text.
FEATURE_TYPES = {
    "doc_verity_feature_read": {
        MeasurementType.PPG,
        MeasurementType.ACC,
        MeasurementType.PPI,
        MeasurementType.GYRO,
        MeasurementType.MAG,
    },
    "real_h10_feature_read": {MeasurementType.ECG, MeasurementType.ACC},
}


@pytest.mark.parametrize("v", _section("pmd_control_point_exchanges"))
def test_pmd_control_point_exchange(v: dict[str, Any]) -> None:
    if v.get("request_hex"):
        raw = bytes.fromhex(v["request_hex"])
        request = PmdRequest.from_bytes(raw)
        assert bytes(request) == raw
        assert isinstance(parse_control_point(raw), PmdRequest)
        if "reference_decode_request_settings" in v:
            assert request.settings is not None
            assert request.settings.as_dict() == _settings_dict(v["reference_decode_request_settings"])
        assert request.measurement_type == raw[1]
    raw = bytes.fromhex(v["response_hex"])
    message = parse_control_point(raw)
    assert bytes(message) == raw
    if v["id"] in FEATURE_TYPES:
        assert isinstance(message, PmdFeatures)
        assert set(message.measurement_types) == FEATURE_TYPES[v["id"]]
        return
    assert isinstance(message, PmdResponse)
    ref = v["reference_decode_response"]
    assert message.op_code == ref["op_code"]
    # doc_h10_stop_ecg: the PDF's figure prints type 0x02 in an ECG stop response (annotation says ECG 0x00);
    # we test the bytes as printed, which the reference decode also follows.
    assert message.measurement_type == ref["measurement_type"]
    assert message.status == ref["error_code"]
    assert bool(message.more) is bool(ref["more"])
    assert message.status_name
    assert message.status_text.endswith(".")
    want = ref["settings"]
    if isinstance(want, dict):
        assert message.settings is not None
        assert message.settings.as_dict() == _settings_dict(want)
    elif want == "opaque (not a valid settings TLV)":
        assert message.settings is None
        assert message.parameters == raw[5:]
    elif v["id"] == "doc_verity_start_acc_52hz":
        # The reference decoder leaves start-response parameters unparsed (null); the vector's meaning says they
        # are a FACTOR setting (float32 0x397FDA40 = 0.000244 G per LSB), which we parse.
        assert message.settings is not None
        assert message.settings.factor == pytest.approx(0.000244, rel=1e-6)
    else:
        assert want is None
        # H10 start responses carry one reserved byte (0x01 / 0x00) that is not a settings TLV.
        assert message.settings is None


def test_pmd_control_point_error_codes_have_names_and_sentences() -> None:
    codes = VECTORS["pmd_control_point"]["error_codes"]
    for code, name in codes.items():
        response = PmdResponse(op_code=2, measurement_type=2, status=int(code))
        assert response.status_name == name
        assert response.status_text and not response.status_text.startswith("The sensor answered with status")


def test_pmd_control_point_error_vector_names() -> None:
    by_id = {v["id"]: v for v in VECTORS["pmd_control_point_exchanges"]}
    invalid_param = PmdResponse.from_bytes(
        bytes.fromhex(by_id["real_h10_start_ecg_without_settings"]["response_hex"])
    )
    assert invalid_param.status_name == "ERROR_INVALID_PARAMETER"
    assert not invalid_param.ok
    invalid_res = PmdResponse.from_bytes(
        bytes.fromhex(by_id["sdk_cp_response_mag_invalid_resolution"]["response_hex"])
    )
    assert invalid_res.status_name == "ERROR_INVALID_RESOLUTION"
    assert invalid_res.measurement_type == MeasurementType.MAG


@pytest.mark.parametrize("v", _section("pmd_settings_tlv"))
def test_pmd_settings_tlv_vector(v: dict[str, Any]) -> None:
    data = _data(v)
    settings = PmdSettings.from_bytes(data)
    assert bytes(settings) == data
    assert settings.as_dict() == _settings_dict(v["expected_asserted"])


# ---------------------------------------------------------------------------------------------------------------
# PMD data frames
# ---------------------------------------------------------------------------------------------------------------


def _frames_with_hex() -> list[Any]:
    return [p for p in _section("pmd_data_frames") if "hex" in p.values[0]]


@pytest.mark.parametrize("v", _frames_with_hex())
def test_pmd_data_frame_header_and_round_trip(v: dict[str, Any]) -> None:
    data = _data(v)
    frame = PmdDataFrame.from_bytes(data)
    assert bytes(frame) == data
    header = v["header"]
    assert frame.measurement_type == header["measurement_type"]
    assert frame.timestamp_ns == header["timestamp_ns"]
    assert frame.frame_type == header["frame_type"]
    assert frame.compressed is header["compressed"]


def _by_id(vid: str) -> dict[str, Any]:
    found = [v for v in VECTORS["pmd_data_frames"] if v["id"] == vid]
    assert len(found) == 1, vid
    return found[0]


def test_sdk_acc_raw_type1_36_samples() -> None:
    # The SDK test's comment claims a leading 0x01 inside the content; the bytes start at F7 FF right after
    # the 10-byte header (frame type 0x01 is the header's 10th byte). We test the bytes.
    v = _by_id("sdk_acc_raw_type1_36samples")
    frame = PmdDataFrame.from_bytes(_data(v))
    samples = decode_acc(frame)
    want = v["expected_asserted"]
    assert len(samples) == want["n_samples"] == v["reference_decode_all_samples_mG"].__len__()
    assert list(samples[0]) == want["sample0"]
    assert list(samples[1]) == want["sample1"]
    assert [list(s) for s in samples] == v["reference_decode_all_samples_mG"]
    # "sample rate 52, previous timestamp 0": the first frame is laid out at the nominal rate, ending on its stamp.
    stamps = nominal_timestamps(frame.timestamp_ns, len(samples), 52.0)
    assert stamps[-1] == want["last_sample_timestamp_ns"]
    assert stamps[1] - stamps[0] == round(1e9 / 52)


def test_sdk_acc_delta_type0_57_samples() -> None:
    v = _by_id("sdk_acc_delta_type0_57samples")
    frame = PmdDataFrame.from_bytes(_data(v))
    blocks = delta_blocks(frame.payload, channels=v["channels"], resolution_bits=v["resolution_bits"])
    assert [(b.width, b.count) for b in blocks] == [(d["bit_width"], d["count"]) for d in v["delta_blocks"]]
    assert len(frame.payload) - (blocks[-1].offset + blocks[-1].nbytes) == v["unused_trailing_bytes"]
    want = v["expected_asserted"]
    raw = acc_wire_samples(frame, resolution_bits=v["resolution_bits"])
    assert list(raw[0]) == want["sample0_raw"]
    assert list(raw[1]) == want["sample1_raw"]
    assert [list(s) for s in raw] == v["reference_decode_all_samples_raw"]
    mg = decode_acc(frame, resolution_bits=v["resolution_bits"], factor=v["factor"])
    assert list(mg[0]) == want["sample0_mG"]
    assert list(mg[1]) == want["sample1_mG"]
    assert len(mg) == want["n_samples"]
    assert [list(s) for s in mg] == v["reference_decode_all_samples_mG"]
    stamps = spread_timestamps(want["previous_frame_timestamp_ns"], frame.timestamp_ns, len(mg))
    assert stamps[-1] == want["last_sample_timestamp_ns"]
    # "round(100 + (2000000000-100)/57) = 35087818"
    assert stamps[0] == int(want["first_sample_timestamp_ns"].split("=")[-1].split()[0])


def test_compressed_type0_needs_a_factor() -> None:
    frame = PmdDataFrame.from_bytes(_data(_by_id("sdk_acc_delta_type0_57samples")))
    with pytest.raises(DecodeError, match="FACTOR"):
        decode_acc(frame)


def test_sdk_acc_delta_type1_2_samples() -> None:
    # The SDK test's comments say "F1 FF = -22" and "01 (10 samples)"; both contradict the bytes and the
    # asserted values (-15, one delta sample). We test the bytes.
    v = _by_id("sdk_acc_delta_type1_2samples")
    frame = PmdDataFrame.from_bytes(_data(v))
    blocks = delta_blocks(frame.payload, channels=v["channels"], resolution_bits=v["resolution_bits"])
    assert [(b.width, b.count) for b in blocks] == [(d["bit_width"], d["count"]) for d in v["delta_blocks"]]
    want = v["expected_asserted"]
    assert [list(s) for s in decode_acc(frame)] == want["samples_mG"]
    stamps = spread_timestamps(want["previous_frame_timestamp_ns"], frame.timestamp_ns, 2)
    assert list(stamps) == want["timestamps_ns"]


def test_sdk_acc_delta_fragment_is_refused_not_crashed() -> None:
    v = _by_id("sdk_acc_delta_fragment_unused")
    payload = bytes.fromhex(v["content_hex_without_header"])
    # The second block header says 12 bit x 20 but the bytes run out: a DecodeError, never IndexError.
    with pytest.raises(DecodeError, match="needs"):
        decode_delta_samples(payload, channels=3, resolution_bits=16)
    # The first block (6 bit x 42) alone decodes; its reference sample is the asserted one.
    first_block_end = 6 + 2 + (6 * 42 * 3 + 7) // 8
    assert payload[6:8] == bytes([6, 42])
    samples = decode_delta_samples(payload[:first_block_end], channels=3, resolution_bits=16)
    assert samples[0][0] == v["expected_asserted"]["reference_sample_channel0"]
    assert len(samples) == 43


def test_doc_h10_acc_raw_type1_truncated() -> None:
    v = _by_id("doc_h10_acc_raw_type1_truncated")
    frame = PmdDataFrame.from_bytes(_data(v))
    want = v["expected_asserted"]
    assert frame.timestamp_ns == want["timestamp_ns"]
    assert frame.frame_type == want["frame_type"]
    samples = decode_acc(frame)
    # The PDF prints x = -184 but the bytes 45 FF are -187: we test the bytes (the vector's note says so too).
    assert samples[0][0] == -187
    assert list(samples[0][1:]) == want["sample0_mG"][1:]
    assert [list(s) for s in samples] == v["reference_decode_visible_samples_mG"]


def test_doc_verity_acc_delta_type0_truncated() -> None:
    v = _by_id("doc_verity_acc_delta_type0_truncated")
    data = _data(v)
    frame = PmdDataFrame.from_bytes(data)
    want = v["expected_asserted"]
    assert frame.timestamp_ns == want["timestamp_ns"]
    # The document shows only 5 of the 29 deltas: decoding the frame as printed must be refused.
    with pytest.raises(DecodeError):
        decode_acc(frame, factor=v["factor"])
    blocks_at = 6  # reference sample: 3 x int16
    assert frame.payload[blocks_at] == want["delta_bit_width"]
    assert frame.payload[blocks_at + 1] == want["delta_count"]
    # Patch the count to the 5 visible deltas (5 x 3 x 8 bits = 15 bytes) and drop the 2 bytes of the 6th.
    visible = frame.payload[: blocks_at + 1] + bytes([5]) + frame.payload[blocks_at + 2 : blocks_at + 2 + 15]
    raw = decode_delta_samples(visible, channels=3, resolution_bits=16)
    assert list(raw[0]) == want["reference_raw"]
    assert list(raw[1]) == want["sample1_raw"]
    assert list(raw[2]) == want["sample2_raw"]
    assert [list(s) for s in raw] == v["reference_decode_visible_raw"]


def test_real_verity_acc_delta_type1_multiblock() -> None:
    v = _by_id("real_verity_acc_delta_type1_multiblock")
    data = _data(v)
    assert len(data) == 228
    frame = PmdDataFrame.from_bytes(data)
    blocks = delta_blocks(frame.payload, channels=v["channels"], resolution_bits=v["resolution_bits"])
    want = v["expected_asserted"]
    assert (blocks[0].width, blocks[0].count) == (want["first_delta_bit_width"], want["first_delta_count"])
    ref = v["reference_decode"]
    assert [(b.width, b.count) for b in blocks] == [(d["bit_width"], d["count"]) for d in ref["delta_blocks"]]
    assert len(frame.payload) - (blocks[-1].offset + blocks[-1].nbytes) == ref["unused_trailing_bytes"]
    samples = decode_acc(frame)
    assert list(samples[0]) == want["reference_sample_mG"]
    assert len(samples) == ref["n_samples"]
    assert [list(s) for s in samples] == ref["samples_mG"]
    # Self-check from the note: a device at rest, |a| within 990-1025 mG for every sample.
    assert all(990 <= math.dist((0, 0, 0), s) <= 1025 for s in samples)
    # The note says "Timestamp decodes to 2024-02-27, matching the comment date". The bytes decode to
    # 2024-02-26 19:04:12 UTC, hours before the comment was posted on the 27th (the strap's clock is set from a
    # phone, possibly in local time): we test the bytes, and that the date is the comment's day or the day before.
    assert frame.timestamp.isoformat(timespec="seconds") == "2024-02-26T19:04:12+00:00"


def test_real_h10_ecg_6_consecutive_frames() -> None:
    v = _by_id("real_h10_ecg_6_consecutive_frames")
    frames = []
    for item in v["frames"]:
        data = bytes.fromhex(item["hex"])
        frame = PmdDataFrame.from_bytes(data)
        assert bytes(frame) == data
        header = item["header"]
        assert (frame.measurement_type, frame.timestamp_ns, frame.frame_type, frame.compressed) == (
            header["measurement_type"],
            header["timestamp_ns"],
            header["frame_type"],
            header["compressed"],
        )
        samples = decode_ecg(frame)
        assert len(samples) == item["n_samples"]
        assert list(samples) == item["reference_decode_uV"]
        if item["dt_from_previous_frame_s"] is not None:
            dt_s = (frame.timestamp_ns - frames[-1].timestamp_ns) / 1e9
            assert dt_s == pytest.approx(item["dt_from_previous_frame_s"], abs=1e-9)
            # 73 samples per ~0.5608 s: the real rate is ~130.17 Hz, not the nominal 130.
            assert 130.1 < len(samples) / dt_s < 130.25
        frames.append(frame)
    last = decode_ecg(frames[5])
    want = v["expected_asserted"]
    assert (last[0], last[1], last[14]) == (
        want["frame5_sample0_uV"],
        want["frame5_sample1_uV"],
        want["frame5_sample14_uV"],
    )
    # decode_acc refuses an ECG frame with a typed error.
    with pytest.raises(DecodeError, match="not ACC"):
        decode_acc(frames[0])


def test_every_pmd_data_vector_is_covered() -> None:
    covered = {
        "sdk_acc_raw_type1_36samples",
        "sdk_acc_delta_type0_57samples",
        "sdk_acc_delta_type1_2samples",
        "sdk_acc_delta_fragment_unused",
        "doc_h10_acc_raw_type1_truncated",
        "doc_verity_acc_delta_type0_truncated",
        "real_verity_acc_delta_type1_multiblock",
        "real_h10_ecg_6_consecutive_frames",
    }
    assert {v["id"] for v in VECTORS["pmd_data_frames"]} == covered


def test_frame_layout_timestamp_rule() -> None:
    # pmd_frame_layout.sample_timestamps: "prev=1e9, ts=11e9, n=10 -> 2e9..11e9"
    assert "prev=1e9, ts=11e9, n=10 -> 2e9..11e9" in VECTORS["pmd_frame_layout"]["sample_timestamps"]
    assert spread_timestamps(10**9, 11 * 10**9, 10) == tuple(k * 10**9 for k in range(2, 12))
