"""The pure parts of sensors.sources.ble: monikers, the reconnect policy, capability detection, PMD sentences."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors import uuids
from sensors.errors import MonikerError
from sensors.sources.ble.capabilities import POLAR_COMPANY_ID, from_advertisement, from_services
from sensors.sources.ble.policy import Backoff, ReconnectPolicy
from sensors.sources.moniker import parse_sensor_moniker

# ----------------------------------------------------------------------------------------------- monikers


@pytest.mark.parametrize(
    ("text", "kind", "address", "name"),
    [
        ("ble:AA:BB:CC:DD:EE:FF", "ble", "AA:BB:CC:DD:EE:FF", None),
        ("ble:aa:bb:cc:dd:ee:0f", "ble", "AA:BB:CC:DD:EE:0F", None),
        ("BLE:12345678-1234-1234-1234-1234567890ab", "ble", "12345678-1234-1234-1234-1234567890AB", None),
        ("ble:name=Polar H10 ABCD1234", "ble", None, "Polar H10 ABCD1234"),
        ("ble:name= Polar H10 ", "ble", None, "Polar H10"),
    ],
)
def test_ble_monikers(text: str, kind: str, address: str | None, name: str | None) -> None:
    moniker = parse_sensor_moniker(text)
    assert (moniker.kind, moniker.address, moniker.name, moniker.path) == (kind, address, name, None)
    assert moniker.is_live and str(moniker) == text.strip()


def test_virtual_and_replay_monikers() -> None:
    plain = parse_sensor_moniker("virtual:fixtures/x.jsonl")
    assert (plain.kind, plain.path, plain.drop_every_s, plain.hr_only) == (
        "virtual",
        Path("fixtures/x.jsonl"),
        None,
        False,
    )
    opts = parse_sensor_moniker("virtual:fixtures/x.jsonl?drop_every=20&hr_only=1")
    assert (opts.drop_every_s, opts.hr_only) == (20.0, True)
    assert parse_sensor_moniker("virtual:x.jsonl?hr_only=false").hr_only is False
    replay = parse_sensor_moniker("replay:some/dir/c.jsonl")
    assert (replay.kind, replay.path, replay.is_live) == ("replay", Path("some/dir/c.jsonl"), False)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("polar", "unknown sensor"),
        ("usb:0", "unknown sensor"),
        ("ble:", "neither an address"),
        ("ble:AA:BB:CC", "neither an address"),
        ("ble:name=", "empty name"),
        ("virtual:", "names no file"),
        ("replay:x.jsonl?speed=2", "takes no options"),
        ("virtual:x.jsonl?drop_every=soon", "number of seconds"),
        ("virtual:x.jsonl?drop_every=0", "positive"),
        ("virtual:x.jsonl?drop_every=-3", "positive"),
        ("virtual:x.jsonl?hr_only=maybe", "1 or 0"),
        ("virtual:x.jsonl?lag=1", "unknown option 'lag'"),
    ],
)
def test_bad_monikers_say_what_is_accepted(text: str, needle: str) -> None:
    with pytest.raises(MonikerError) as caught:
        parse_sensor_moniker(text)
    assert needle in str(caught.value)
    assert isinstance(caught.value, ValueError)


# ----------------------------------------------------------------------------------------------- policy


def test_policy_is_immediate_then_doubles_up_to_the_cap() -> None:
    policy = ReconnectPolicy(first_delay_s=0.0, base_delay_s=0.5, factor=2.0, max_delay_s=4.0, jitter=0.0)
    assert [policy.delay_s(n) for n in range(1, 8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_policy_jitter_spreads_within_the_fraction() -> None:
    policy = ReconnectPolicy(base_delay_s=1.0, factor=1.0, max_delay_s=1.0, jitter=0.2)
    assert policy.delay_s(3, unit_random=0.0) == pytest.approx(0.8)
    assert policy.delay_s(3, unit_random=0.5) == pytest.approx(1.0)
    assert policy.delay_s(3, unit_random=0.999999) == pytest.approx(1.2, abs=1e-5)


@given(attempt=st.integers(min_value=1, max_value=10**6), u=st.floats(min_value=0, max_value=0.999999))
def test_policy_never_gives_up_and_never_exceeds_the_cap(attempt: int, u: float) -> None:
    policy = ReconnectPolicy()
    delay = policy.delay_s(attempt, u)
    assert 0.0 <= delay <= policy.max_delay_s * (1 + policy.jitter)


def test_backoff_counts_attempts_and_resets_after_a_good_connection() -> None:
    backoff = Backoff(ReconnectPolicy(jitter=0.1), random.Random(7))
    first = [backoff.next_delay_s() for _ in range(4)]
    assert backoff.attempts == 4 and first[0] == 0.0 and first[1] < first[2] < first[3]
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next_delay_s() == 0.0
    again = Backoff(ReconnectPolicy(jitter=0.1), random.Random(7))
    assert [again.next_delay_s() for _ in range(4)] == first  # deterministic with a seeded rng


@pytest.mark.parametrize(
    "kwargs",
    [{"first_delay_s": -1}, {"base_delay_s": 0}, {"factor": 0.5}, {"max_delay_s": 0.1}, {"jitter": 1.0}],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(**kwargs)


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy().delay_s(0)


# ----------------------------------------------------------------------------------------------- capabilities


def test_h10_advertisement_means_heart_rate_and_likely_pmd() -> None:
    caps = from_advertisement("Polar H10 ABCD1234", ["0000180d-0000-1000-8000-00805f9b34fb"])
    assert (caps.heart_rate, caps.rsc, caps.pmd, caps.usable) == (True, False, None, True)
    assert caps.describe() == "heart rate, accelerometer (PMD, likely)"


def test_h9_has_no_pmd_even_with_the_polar_company_id() -> None:
    caps = from_advertisement("Polar H9 12345678", ["180D"], [POLAR_COMPANY_ID])
    assert caps.pmd is False
    unnamed = from_advertisement(None, ["180d"], [POLAR_COMPANY_ID])
    assert unnamed.pmd is None


def test_foot_pod_and_unusable_devices() -> None:
    pod = from_advertisement("Stryd", ["1814", "180f"])
    assert (pod.rsc, pod.battery, pod.usable) == (True, True, True)
    assert pod.describe() == "RSC speed/cadence, battery"
    tv = from_advertisement("[TV] Living room", ["180f", "not-a-uuid"])
    assert not tv.usable and tv.describe() == "not usable by coach (battery)"
    assert from_advertisement(None, []).describe() == "not usable by coach"


def test_services_after_connecting_are_definite() -> None:
    caps = from_services([uuids.HEART_RATE_SERVICE, uuids.PMD_SERVICE.upper(), uuids.BATTERY_SERVICE])
    assert (caps.heart_rate, caps.pmd, caps.battery, caps.rsc) == (True, True, True, False)
    assert from_services([uuids.HEART_RATE_SERVICE]).pmd is False


@given(st.text(max_size=60))
def test_any_text_parses_or_says_why(text: str) -> None:
    try:
        moniker = parse_sensor_moniker(text)
    except MonikerError as exc:
        assert str(exc)
        return
    assert moniker.kind in ("ble", "virtual", "replay")
    assert (moniker.path is None) == (moniker.kind == "ble")


# ----------------------------------------------------------------------------------------------- scan names


def test_fuller_name_keeps_the_complete_name_of_a_shortened_one() -> None:
    from sensors.sources.ble.scan import fuller_name

    assert fuller_name("Polar H10 (Hexo", "Polar H10 (Hexoskin 005)") == "Polar H10 (Hexoskin 005)"
    assert fuller_name("Polar H10 (Hexoskin 005)", "Polar H10 (Hexo") == "Polar H10 (Hexoskin 005)"
    assert fuller_name(None, "Stryd", None) == "Stryd"
    assert fuller_name("New name", "Old name longer") == "New name"  # not a prefix: the newest wins
    assert fuller_name(None, None) is None


async def test_scan_reports_the_complete_name_not_the_shortened_advertisement() -> None:
    """A sensor that advertises a shortened name (ADV_IND) and the complete one (scan response), in turns: the
    scan result and the suggested moniker carry the complete name."""
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

    from coach.cli.scan_cmd import format_results
    from sensors.sources.ble.scan import BleakBackends, scan

    full = "HR+RSC strap (garmin-fenix-5-run.fit re-encoded)"

    class TurnsScanner(BaseBleakScanner):
        def __init__(
            self, detection_callback: Any, service_uuids: Any, scanning_mode: Any, **kwargs: Any
        ) -> None:
            super().__init__(detection_callback, service_uuids)

        async def start(self) -> None:
            for name in (full[:20], full, full[:20]):  # ADV_IND, SCAN_RSP, ADV_IND
                device = BLEDevice("C0:00:00:00:00:02", name, None)
                adv = AdvertisementData(name, {}, {}, ["0000180d-0000-1000-8000-00805f9b34fb"], None, -50, ())
                self.call_detection_callbacks(device, adv)

        async def stop(self) -> None:
            pass

        def set_scanning_filter(self, **kwargs: Any) -> None:
            pass

    results = await scan(0.01, backends=BleakBackends(scanner=TurnsScanner))
    assert [r.name for r in results] == [full]
    assert f"--sensor 'ble:name={full}'" in format_results(results, show_all=False)[-1]


# ---------------------------------------------------------------- accelerometer settings vs what a strap offers


def _offer(rates: tuple[int, ...], ranges: tuple[int, ...] = (2, 4, 8), bits: tuple[int, ...] = (16,)) -> Any:
    from sensors.codecs.pmd import PmdSettings, PmdSettingType

    return PmdSettings(
        (
            (PmdSettingType.SAMPLE_RATE, rates),
            (PmdSettingType.RESOLUTION, bits),
            (PmdSettingType.RANGE, ranges),
        )
    )


@pytest.mark.parametrize(
    ("wanted", "offered", "expected"),
    [
        ((100, 8, 16), _offer((25, 50, 100, 200)), (100, 8, 16)),  # an H10: as wanted
        ((100, 8, 16), _offer((52,), (2, 4, 8, 16)), (52, 8, 16)),  # a Verity Sense: 52 Hz
        ((300, 8, 16), _offer((25, 50, 100, 200)), (200, 8, 16)),
        ((75, 8, 16), _offer((50, 100)), (100, 8, 16)),  # log-scale nearest (75 is nearer 100 than 50 is)
        ((100, 8, 16), _offer((100,), (2, 4)), (100, 4, 16)),  # no range that wide: the widest
        ((100, 3, 16), _offer((100,), (2, 4, 8)), (100, 4, 16)),  # the smallest range at least as wide
        ((100, 8, 14), _offer((100,), bits=(12, 16)), (100, 8, 16)),
    ],
)
def test_acc_settings_fit_what_the_strap_offers(
    wanted: tuple[int, int, int], offered: Any, expected: tuple[int, int, int]
) -> None:
    from sensors.sources.ble.client import AccConfig

    acc = AccConfig(sample_rate_hz=wanted[0], range_g=wanted[1], resolution_bits=wanted[2])
    got = acc.fitted_to(offered)
    assert (got.sample_rate_hz, got.range_g, got.resolution_bits) == expected
    assert acc.fitted_to(None) == acc  # no answer to get-settings: ask for what was wanted
