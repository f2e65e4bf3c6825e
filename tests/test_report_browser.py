"""The HTML report in a real browser: headless Chromium at phone (390x844) and desktop (1280x900) size.

For each page (the demo session, an imported FIT run, a session with a long pain note, a session with ten earlier
ones) and each size: the page never scrolls sideways (``scrollWidth <= innerWidth``), no rendered text is smaller
than 11 px on the phone, 10 px on the desktop, SVG chart text included at the size it is drawn (its font size times
the chart's scale on screen), and no two labels of a chart overlap.

Chromium is driven through the DevTools protocol over a pipe (tools/chromium.py): no port, no chromedriver, and the
suite's network guard stays on. Without Chromium the tests are skipped, except on CI (``CI=true``), where a missing
browser is a failure (.ci/run installs it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.report.html import render_html
from coach.store.database import Database
from coach.store.index import PREVIOUS_IN_REPORT, report_for
from tests.cli_helpers import run_main
from tests.realdata import FIT_DIR
from tests.virtual_time import sessions_on_virtual_time

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from chromium import Browser, find_chromium

ON_CI = os.environ.get("CI", "").lower() == "true"
pytestmark = pytest.mark.skipif(
    find_chromium() is None and not ON_CI,
    reason="Chromium is not installed (Debian: apt-get install chromium)",
)

#: (name, width, height, phone?, the smallest text allowed in CSS px)
VIEWPORTS = [("phone", 390, 844, True, 11.0), ("desktop", 1280, 900, False, 10.0)]
#: A pain note as long as `coach pain --note` takes (500 characters), with a word too long for any line.
LONG_NOTE = (
    "Lower back stiff for the first ten minutes, then fine; left knee ached on the downhill part of the last run "
    "and again on the stairs at home. Saw https://example.org/a-very-long-link-without-any-spaces-in-it-at-all "
    "about it. Slept badly, woke twice. "
) * 2

#: Every element that draws text of its own, with its font size as rendered (SVG: times the chart's scale on screen),
#: skipping what is not rendered (display:none, the SVG <title> tooltips); and the page's widths.
MEASURE_JS = """(() => {
  const texts = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own || el.closest('title') || el.getClientRects().length === 0) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      size *= Math.hypot(m.a, m.b);
    } else {
      size *= window.visualViewport.scale;
    }
    texts.push({tag: el.tagName.toLowerCase(), svg: el instanceof SVGElement, text: el.textContent.trim().slice(0, 40),
                size: size});
  }
  // chart labels that collide: two rendered texts of one chart whose boxes overlap by more than 1 px both ways
  const overlaps = [];
  for (const svg of document.querySelectorAll('svg')) {
    const boxes = Array.from(svg.querySelectorAll('text, tspan'))
      .filter(e => !e.querySelector('tspan') && e.getClientRects().length)
      .map(e => [e.textContent.trim(), e.getBoundingClientRect()]);
    boxes.forEach(([ta, a], i) => boxes.slice(i + 1).forEach(([tb, b]) => {
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) overlaps.push([svg.getAttribute('aria-label'), ta, tb]);
    }));
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          scale: window.visualViewport.scale, texts: texts, overlaps: overlaps};
})()"""


def _html(data_dir: Path, out: Path) -> Path:
    code, _, err = run_main("report", "latest", "--html", out, "--data-dir", data_dir)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three reports, built once: the demo (on virtual time), the demo with a long pain note, a FIT import."""
    root = tmp_path_factory.mktemp("report-pages")
    demo = root / "demo"
    with pytest.MonkeyPatch.context() as mp, sessions_on_virtual_time(mp):
        result = CliRunner().invoke(cli, ["demo", "--voice", "none", "--data-dir", str(demo)])
    assert result.exit_code == 0, result.output[-2000:]
    out = {"demo": _html(demo, root / "demo.html")}
    code, _, err = run_main(
        "pain", "3", "--when", "after", "--session", "latest", "--note", LONG_NOTE, "--data-dir", demo
    )
    assert code == 0, err
    out["long note"] = _html(demo, root / "long-note.html")
    # the most the report lists: ten earlier sessions (PREVIOUS_IN_REPORT), a week apart, under the demo's figures
    with Database.in_dir(demo) as db:
        model = report_for(db, db.sessions()[-1]["id"])
    model["previous"] = [
        {
            "id": f"2026110{k}T0800{k}0Z",
            "started_at": f"2026-{9 + k // 5:02d}-{1 + 6 * (k % 5):02d}T08:00:00+00:00",
            "stage": 1 + k // 4,
            "complete": k != 3,
            "adherence": 0.5 + 0.05 * k,
            "cadence_walk_spm": 110 + k,
            "cadence_run_spm": 150 + 2 * k,
            "hr_mean_bpm": 120 - k,
            "pain_after": k % 4,
            "pain_next_morning": None if k == 5 else k % 3,
        }
        for k in range(PREVIOUS_IN_REPORT)
    ]
    out["ten previous sessions"] = root / "previous.html"
    out["ten previous sessions"].write_text(render_html(model), encoding="utf-8")
    fit = root / "fit"
    code, _, err = run_main("import", FIT_DIR / "garmin-fenix-5-run.fit", "--data-dir", fit)
    assert code == 0, err
    out["FIT import"] = _html(fit, root / "fit.html")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def measure(browser: Browser, url: str, width: int, height: int, phone: bool) -> dict[str, Any]:
    browser.open(url, width=width, height=height, mobile=phone)
    result: dict[str, Any] = browser.evaluate(MEASURE_JS)
    return result


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=[v[0] for v in VIEWPORTS])
@pytest.mark.parametrize("name", ["demo", "long note", "FIT import", "ten previous sessions"])
def test_report_fits_the_screen_and_its_text_is_readable(
    pages: dict[str, Path], browser: Browser, name: str, viewport: tuple[str, int, int, bool, float]
) -> None:
    _, width, height, phone, min_px = viewport
    html = pages[name].read_text(encoding="utf-8")
    if name == "long note":
        assert "a-very-long-link-without-any-spaces-in-it-at-all" in html
    m = measure(browser, pages[name].as_uri(), width, height, phone)
    # the browser shows the page at the asked width and unzoomed (a phone zooms out of a page that is too wide)
    assert m["innerWidth"] == width and m["scale"] == 1
    assert m["scrollWidth"] <= m["innerWidth"], (
        f"{name} scrolls sideways at {width} px: {m['scrollWidth']} px wide"
    )
    svg_texts = [t for t in m["texts"] if t["svg"]]
    assert len(svg_texts) > 40, "the charts' text was not measured"  # axes, labels, legends of five charts
    small = [t for t in m["texts"] if t["size"] < min_px - 1e-6]
    assert not small, f"text under {min_px} px at {width} px: {small[:8]}"
    assert not m["overlaps"], f"chart labels collide at {width} px: {m['overlaps'][:8]}"


def test_the_phone_shows_the_narrow_charts_and_one_column(pages: dict[str, Path], browser: Browser) -> None:
    """On the phone the wide time series are hidden and the narrow ones shown (and the reverse on the desktop); the
    three small charts sit one under the other."""
    probe = """(() => {
      const shown = sel => Array.from(document.querySelectorAll(sel)).filter(e => e.getClientRects().length).length;
      const rows = Array.from(document.querySelectorAll('.row3 > div')).map(e => Math.round(e.getBoundingClientRect().top));
      return {wide: shown('svg.wide'), narrow: shown('svg.narrow'), tops: rows};
    })()"""
    url = pages["demo"].as_uri()
    browser.open(url, width=390, height=844, mobile=True)
    phone = browser.evaluate(probe)
    assert phone["wide"] == 0 and phone["narrow"] == 2
    assert len(set(phone["tops"])) == 3, "the small charts are not one under the other on a phone"
    browser.open(url, width=1280, height=900)
    desktop = browser.evaluate(probe)
    assert desktop["wide"] == 2 and desktop["narrow"] == 0
    assert len(set(desktop["tops"])) == 1, "the small charts are not side by side on a desktop"


def test_the_measurement_catches_small_text_and_sideways_scrolling(tmp_path: Path, browser: Browser) -> None:
    """The check above can fail: a page with a too-wide box, 9 px text and a chart scaled down to a third."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body><p style="font-size:9px">tiny</p><div style="width:900px">wide</div>'
        '<svg viewBox="0 0 1100 200" style="width:360px"><text x="0" y="50" style="font-size:12px">scaled</text>'
        '<text x="500" y="100" style="font-size:40px">one</text><text x="520" y="110" style="font-size:40px">two</text>'
        "</svg>"
        "</body></html>",
        encoding="utf-8",
    )
    m = measure(browser, bad.as_uri(), 390, 844, False)
    assert m["scrollWidth"] > m["innerWidth"]
    sizes = {t["text"]: t["size"] for t in m["texts"]}
    assert sizes["tiny"] == pytest.approx(9)
    assert sizes["scaled"] == pytest.approx(12 * 360 / 1100, rel=0.01)
    assert [o[1:] for o in m["overlaps"]] == [["one", "two"]]
