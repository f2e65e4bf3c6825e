"""bench/ble_bench.py: its pieces work (the numbers themselves are in bench/RESULTS.md, not asserted here)."""

from __future__ import annotations

from pathlib import Path

from bench import ble_bench


async def test_stream_measures_a_synthetic_200_hz_capture(tmp_path: Path) -> None:
    capture = ble_bench._synthetic_capture(tmp_path / "syn.jsonl", seconds=8.0, rate_hz=200.0)
    result, outages = await ble_bench.stream(capture, speed=20.0, rate_hz=200)
    assert 150.0 < result.acc_rate_hz < 250.0  # 200 Hz arrives as 200 Hz
    assert result.hr_samples >= 6 and result.notifications > 40
    assert 0.0 < result.client_pct <= result.process_pct
    assert outages == []


def test_results_section_is_replaced_not_duplicated(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## signal\n\nkept\n")
    res = ble_bench.StreamResult(100.0, 25.0, 0.8, 0.15, 800, 20000, 100, 200.0)
    first = ble_bench.render(res, [0.2, 0.3], 5, source="test", speed=4.0, argv=[])
    ble_bench.write_section(first, results)
    second = ble_bench.render(res, [0.2, 0.4], 5, source="test", speed=4.0, argv=["--seconds", "100"])
    ble_bench.write_section(second, results)
    text = results.read_text()
    assert (
        text.count(ble_bench.START) == 1
        and "kept" in text
        and "0.30 / 0.40 pass" in text
        and "0.25 / 0.30" not in text
    )
    assert "| 0.15 pass |" in text


def test_the_bluez_section_goes_right_after_the_bumble_one_and_is_replaced(tmp_path: Path) -> None:
    from bench import ble_bluez_bench

    results = tmp_path / "RESULTS.md"
    res = ble_bench.StreamResult(60.0, 15.0, 0.3, 0.15, 400, 12000, 60, 200.0)
    bumble = ble_bench.render(res, [], 3, source="test", speed=4.0, argv=[])
    results.write_text("# Benchmark results\n\n" + bumble + "\n## later\n\nkept\n")
    ble_bluez_bench.write(ble_bluez_bench.render(res, source="test", speed=4.0, argv=[]), results)
    ble_bluez_bench.write(ble_bluez_bench.render(res, source="again", speed=4.0, argv=[]), results)
    text = results.read_text()
    assert text.count("<!-- ble_bluez_bench:start -->") == 1 and "data: again;" in text
    assert text.index(ble_bench.END) < text.index("<!-- ble_bluez_bench:start -->") < text.index("## later")
    assert "| client CPU, 200 Hz ACC + HR" in text.split("ble_bluez_bench:start")[1]
