"""The report model (:func:`coach.report.model.build_report`) as one self-contained HTML page.

Inline SVG drawn here (no JavaScript, no fonts, images or styles from the network), so the file can be mailed to a
physio or opened offline. Every piece of text that comes from a user or a file (notes, labels, programme titles,
session ids, sources) goes through :func:`html.escape`. See docs/report.md for how to read it.

The page reads on a phone as well as on a desktop: below :data:`PHONE_MAX_WIDTH_PX` it is one column, the cards wrap,
tables scroll inside their own box, and each time-series chart is drawn twice, laid out for the wide desktop column
and for a phone column, with CSS showing the one that fits (no script). Text in a chart is thus shown at about its
nominal size instead of being scaled down with the drawing. :func:`page` and :data:`BASE_CSS` are the page shell and
style that other pages of coach (the progress summary) share.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from coach.text import mmss
from coach.vocabulary import Mode, SessionActivity

MODE_COLOURS: dict[str, str] = {
    Mode.RUN: "#ea580c",
    Mode.WALK: "#2563eb",
    Mode.STILL: "#6b7280",
    Mode.UNKNOWN: "#d1d5db",
}
PLAN_FILL = {"run": "#fed7aa", "walk": "#dbeafe"}
#: What the page shows for a number or a duration that was not measured (an en dash).
NOT_MEASURED = "–"
PAIN_WHEN = (("before", "before"), ("during", "during"), ("after", "after"), ("next-morning", "next morning"))

#: Below this viewport width (CSS px) a page is one column and the charts switch to their narrow layout.
PHONE_MAX_WIDTH_PX = 600
#: The width (SVG user units) of the wide time-series charts: the desktop page's content column, so that at 1280 px
#: they are drawn at about 1:1 and their text at its nominal size.
WIDE_CHART_W = 1100
#: The width of the narrow charts (time series on a phone, and the small charts, which sit three to a row on a
#: desktop and one to a row on a phone): about the content column of a 360-400 px phone, and a third of the desktop
#: column, so both show their text at about its nominal size.
NARROW_CHART_W = 340
#: At most this many time labels along a wide / a narrow time axis (fewer on a phone, so the labels do not collide).
TIME_TICKS_WIDE = 12
TIME_TICKS_NARROW = 5
#: The baseline of the labels under an x axis, below the axis (SVG units): clear of the lowest y-axis label.
X_TICK_DY = 20
#: The previous-sessions charts label every session up to this many, then every second one.
TREND_LABELS_ALL_UP_TO = 6


def short_source(source: object) -> str:
    """What a person needs to see of a session's source: ``replay:/home/me/x/demo.jsonl`` -> ``replay: demo.jsonl``
    (the file name, not the machine's path; the full source stays in the JSON). Other sources as they are."""
    text = str(source or "")
    kind, sep, rest = text.partition(":")
    if sep and kind in ("replay", "virtual") and ("/" in rest or "\\" in rest):
        return f"{kind}: {rest.replace(chr(92), '/').rstrip('/').rsplit('/', 1)[-1]}"
    return text


def esc(value: Any) -> str:
    """Text for HTML (element content and quoted attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _f(v: Any, nd: int = 0, unit: str = "") -> str:
    if v is None:
        return NOT_MEASURED
    return f"{v:.{nd}f}{unit}"


def _pct(v: Any) -> str:
    return NOT_MEASURED if v is None else f"{v * 100:.0f}\u00a0%"  # no line break between number and unit


def _mmss(seconds: float | None) -> str:
    """:func:`coach.text.mmss` with the page's mark for "not measured"."""
    return mmss(seconds, missing=NOT_MEASURED)


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _time_step(total_s: float, max_ticks: int = TIME_TICKS_WIDE) -> float:
    for step in (15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if total_s / step <= max_ticks:
            return float(step)
    return 7200.0


class _Plot:
    """A plot area with linear x (seconds or index) and y scales, emitting SVG fragments."""

    def __init__(
        self,
        w: int,
        h: int,
        x0: float,
        x1: float,
        y0: float,
        y1: float,
        *,
        left: int = 52,
        right: int = 16,
        top: int = 30,
        bottom: int = 34,
    ) -> None:
        self.w, self.h = w, h
        self.l, self.r, self.t, self.b = left, w - right, top, h - bottom
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1
        self.parts: list[str] = []

    def x(self, v: float) -> float:
        return self.l + (v - self.x0) / (self.x1 - self.x0) * (self.r - self.l)

    def y(self, v: float) -> float:
        return self.b - (v - self.y0) / (self.y1 - self.y0) * (self.b - self.t)

    def add(self, s: str) -> None:
        self.parts.append(s)

    def y_grid(self, step: float, fmt: str = "{:g}") -> None:
        v = math.ceil(self.y0 / step) * step
        while v <= self.y1 + 1e-9:
            yy = self.y(v)
            self.add(f'<line x1="{self.l}" x2="{self.r}" y1="{yy:.1f}" y2="{yy:.1f}" class="grid"/>')
            self.add(
                f'<text x="{self.l - 6}" y="{yy + 4:.1f}" class="tick" text-anchor="end">{esc(fmt.format(v))}</text>'
            )
            v += step

    def time_axis(self, max_ticks: int = TIME_TICKS_WIDE) -> None:
        step = _time_step(self.x1 - self.x0, max_ticks)
        v = 0.0
        while v <= self.x1 + 1e-9:
            xx = self.x(v)
            self.add(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{self.b}" y2="{self.b + 4}" class="axis"/>')
            self.add(
                f'<text x="{xx:.1f}" y="{self.b + X_TICK_DY}" class="tick" text-anchor="middle">{_mmss(v)}</text>'
            )
            v += step
        self.add(f'<line x1="{self.l}" x2="{self.r}" y1="{self.b}" y2="{self.b}" class="axis"/>')

    def svg(self, title: str, klass: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{klass}" viewBox="0 0 {self.w} {self.h}" '
            f'width="100%" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
            + "".join(self.parts)
            + "</svg>"
        )


def _series_path(p: _Plot, ts: Sequence[float], ys: Sequence[float | None], max_gap_s: float = 2.5) -> str:
    d: list[str] = []
    prev_t: float | None = None
    for t, v in zip(ts, ys, strict=True):
        if v is None:
            prev_t = None
            continue
        vv = min(max(v, p.y0), p.y1)
        cmd = "L" if prev_t is not None and t - prev_t <= max_gap_s else "M"
        d.append(f"{cmd}{p.x(t):.1f},{p.y(vv):.1f}")
        prev_t = t
    return "".join(d)


def timeseries_svg(
    report: Mapping[str, Any], key: str, title: str, unit: str, colour: str, *, narrow: bool = False
) -> str:
    """Cadence or HR over time, planned intervals shaded, the detected mode drawn as a strip on top.

    ``narrow``: laid out for a phone (:data:`NARROW_CHART_W` wide, fewer time labels) instead of the desktop column.
    """
    series = report["series"]
    ts: list[float] = series["t_s"]
    ys: list[float | None] = series[key]
    intervals = report["intervals"]
    ends = [iv["end_s"] or 0 for iv in intervals] + [
        (iv["planned_start_s"] or 0) + iv["planned_duration_s"] for iv in intervals
    ]
    total = max([report["session"]["duration_s"] or 0, *(ts[-1:] or [0]), *ends, 1])
    vals = [v for v in ys if v is not None]
    if key == "cadence_spm":
        lo, hi = 60.0, 200.0
        if vals:
            lo, hi = min(lo, math.floor(min(vals) / 20) * 20), max(hi, math.ceil(max(vals) / 20) * 20)
    else:
        lo, hi = (60.0, 190.0)
        if vals:
            lo, hi = math.floor((min(vals) - 5) / 10) * 10, math.ceil((max(vals) + 5) / 10) * 10
    if narrow:
        p = _Plot(NARROW_CHART_W, 210, 0, total, lo, hi, left=38, right=18, top=36)
    else:
        p = _Plot(WIDE_CHART_W, 230, 0, total, lo, hi, top=36)
    # planned intervals (shaded); a planned interval that was never reached is hatched at its planned time
    for iv in intervals:
        start = iv["start_s"] if iv["start_s"] is not None else iv["planned_start_s"]
        end = iv["end_s"] if iv["end_s"] is not None else (start or 0) + iv["planned_duration_s"]
        if start is None:
            continue
        fill = PLAN_FILL.get(iv["activity"], "#eeeeee")
        extra = ' fill-opacity="0.35"' if iv["status"] == "not reached" else ""
        p.add(
            f'<rect x="{p.x(start):.1f}" y="{p.t}" width="{max(0.0, p.x(end) - p.x(start)):.1f}" '
            f'height="{p.b - p.t}" fill="{fill}"{extra}><title>{esc(iv["activity"])} '
            f"{_mmss(iv['planned_duration_s'])} planned</title></rect>"
        )
    p.y_grid(_nice_step(hi - lo, 6))
    if key == "cadence_spm":
        base = report["summary"].get("cadence_baseline_spm")
        if base:
            yy = p.y(base)
            p.add(f'<line x1="{p.l}" x2="{p.r}" y1="{yy:.1f}" y2="{yy:.1f}" class="ref"/>')
            p.add(
                f'<text x="{p.r - 4}" y="{yy - 4:.1f}" class="tick" text-anchor="end">run baseline {base:.0f}</text>'
            )
    # detected mode strip on top of the plot
    modes: list[str] = series["mode"]
    k = 0
    while k < len(ts):
        j = k
        while j + 1 < len(ts) and modes[j + 1] == modes[k] and ts[j + 1] - ts[j] <= 2.5:
            j += 1
        x0, x1 = p.x(ts[k]), p.x(ts[j] + 1.0)
        p.add(
            f'<rect x="{x0:.1f}" y="{p.t - 14}" width="{max(0.5, x1 - x0):.1f}" height="9" '
            f'fill="{MODE_COLOURS.get(modes[k], "#d1d5db")}"><title>detected {esc(modes[k])} '
            f"{_mmss(ts[k])}-{_mmss(ts[j] + 1)}</title></rect>"
        )
        k = j + 1
    path = _series_path(p, ts, ys)
    if path:
        p.add(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6" stroke-linejoin="round"/>')
    else:
        p.add(
            f'<text x="{(p.l + p.r) / 2}" y="{(p.t + p.b) / 2}" class="empty" text-anchor="middle">no data</text>'
        )
    p.time_axis(TIME_TICKS_NARROW if narrow else TIME_TICKS_WIDE)
    p.add(f'<text x="{p.l}" y="{p.t - 20}" class="label">{esc(title)} ({esc(unit)})</text>')
    return p.svg(f"{title} over time", f"chart timeseries {'narrow' if narrow else 'wide'}")


def histogram_svg(report: Mapping[str, Any]) -> str:
    """Cadence distribution: seconds per 5 steps/min bin, walking (blue) and running (orange) side by side."""
    h = report["cadence_histogram"]
    edges: list[int] = h["edges_spm"]
    walk, run = h["walk"], h["run"]
    used = [i for i in range(len(walk)) if walk[i] or run[i]]
    lo_i = max(0, (used[0] if used else 8) - 2)
    hi_i = min(len(walk), (used[-1] if used else 24) + 3)
    top = max([*walk[lo_i:hi_i], *run[lo_i:hi_i], 1])
    p = _Plot(NARROW_CHART_W, 250, edges[lo_i], edges[hi_i], 0, top * 1.1, left=40, top=50)
    p.y_grid(_nice_step(top, 5))
    bw = (p.x(edges[1]) - p.x(edges[0])) / 2 - 0.5
    for i in range(lo_i, hi_i):
        x = p.x(edges[i])
        for off, counts, mode in ((0.0, walk, "walk"), (bw, run, "run")):
            c = counts[i]
            if c:
                p.add(
                    f'<rect x="{x + off:.1f}" y="{p.y(c):.1f}" width="{bw:.1f}" height="{p.b - p.y(c):.1f}" '
                    f'fill="{MODE_COLOURS[mode]}"><title>{mode} {edges[i]}-{edges[i + 1]} steps/min: {c} s</title></rect>'
                )
    if not used:
        p.add(
            f'<text x="{(p.l + p.r) / 2}" y="{(p.t + p.b) / 2}" class="empty" text-anchor="middle">no cadence data</text>'
        )
    for e in edges[lo_i : hi_i + 1]:
        if e % 20 == 0:
            p.add(
                f'<text x="{p.x(e):.1f}" y="{p.b + X_TICK_DY}" class="tick" text-anchor="middle">{e}</text>'
            )
    p.add(f'<line x1="{p.l}" x2="{p.r}" y1="{p.b}" y2="{p.b}" class="axis"/>')
    p.add(f'<text x="{p.l}" y="{p.t - 32}" class="label">seconds per bin (steps/min)</text>')
    p.add(
        f'<rect x="{p.l}" y="{p.t - 22}" width="10" height="10" fill="{MODE_COLOURS[Mode.WALK]}"/>'
        f'<text x="{p.l + 14}" y="{p.t - 13}" class="tick">walking</text>'
        f'<rect x="{p.l + 80}" y="{p.t - 22}" width="10" height="10" fill="{MODE_COLOURS[Mode.RUN]}"/>'
        f'<text x="{p.l + 94}" y="{p.t - 13}" class="tick">running</text>'
    )
    return p.svg("Cadence distribution, walking vs running", "chart histogram")


def pain_svg(pain: Mapping[str, Mapping[str, Any]]) -> str:
    """Pain 0-10 before/during/after/next morning over the pain-monitoring zones (0-2 safe, to 5 acceptable)."""
    p = _Plot(NARROW_CHART_W, 250, 0, len(PAIN_WHEN), 0, 10, left=30, top=50, bottom=44)
    for lo, hi, colour in ((0, 2, "#dcfce7"), (2, 5, "#fef3c7"), (5, 10, "#fee2e2")):
        p.add(
            f'<rect x="{p.l}" y="{p.y(hi):.1f}" width="{p.r - p.l}" height="{p.y(lo) - p.y(hi):.1f}" fill="{colour}"/>'
        )
    p.y_grid(2)
    for i, (key, name) in enumerate(PAIN_WHEN):
        cx = p.x(i + 0.5)
        entry = pain.get(key)
        score = entry.get("score") if entry else None
        if score is not None:
            colour = "#16a34a" if score <= 2 else "#d97706" if score <= 5 else "#dc2626"
            p.add(
                f'<rect x="{cx - 22:.1f}" y="{p.y(score):.1f}" width="44" height="{p.b - p.y(score):.1f}" '
                f'fill="{colour}"/><text x="{cx:.1f}" y="{p.y(score) - 5:.1f}" class="value" '
                f'text-anchor="middle">{score:g}</text>'
            )
        else:
            p.add(
                f'<text y="{p.b - 24}" class="empty" text-anchor="middle"><tspan x="{cx:.1f}">not</tspan>'
                f'<tspan x="{cx:.1f}" dy="15">logged</tspan></text>'
            )
        # one word a line: four labels side by side fit a phone's width
        lines = "".join(
            f'<tspan x="{cx:.1f}" dy="{0 if k == 0 else 14}">{word}</tspan>'
            for k, word in enumerate(name.split())
        )
        p.add(f'<text y="{p.b + X_TICK_DY}" class="tick" text-anchor="middle">{lines}</text>')
    p.add(f'<line x1="{p.l}" x2="{p.r}" y1="{p.b}" y2="{p.b}" class="axis"/>')
    p.add(f'<text x="{p.l}" y="{p.t - 32}" class="label">pain 0-10</text>')
    p.add(f'<text x="{p.l}" y="{p.t - 14}" class="tick">green safe, amber acceptable, red too much</text>')
    return p.svg("Pain before, during, after and the next morning", "chart pain")


def _trend_axis_labels(p: _Plot, rows: Sequence[Mapping[str, Any]]) -> None:
    """One label per session under the bars/dots (its date, "this" for this one), every second one when many."""
    n = len(rows)
    every = 1 if n <= TREND_LABELS_ALL_UP_TO else 2
    for i, r in enumerate(rows):
        current = i == n - 1
        if not current and (n - 1 - i) % every:
            continue
        label = "this" if current else str(r.get("started_at") or "")[5:10]
        p.add(
            f'<text x="{p.x(i + 0.5):.1f}" y="{p.b + X_TICK_DY}" class="tick" text-anchor="middle">{esc(label)}</text>'
        )
    p.add(f'<line x1="{p.l}" x2="{p.r}" y1="{p.b}" y2="{p.b}" class="axis"/>')


def trend_svg(report: Mapping[str, Any]) -> str:
    """This session against the previous ones, as two small charts, each on its own axis: the share of the plan
    followed (bars, 0-100 %) and the running cadence (dots, steps/min)."""
    rows = [*report.get("previous", []), _this_row(report)]
    n = len(rows)
    # followed the plan, 0-100 %
    p = _Plot(NARROW_CHART_W, 170, 0, n, 0, 100, left=48, right=18, top=30)
    p.y_grid(25, "{:g} %")
    bw = min(40.0, (p.r - p.l) / n * 0.6)
    for i, r in enumerate(rows):
        a = r.get("adherence")
        if a is None:
            continue
        cx = p.x(i + 0.5)
        current = i == n - 1
        p.add(
            f'<rect x="{cx - bw / 2:.1f}" y="{p.y(a * 100):.1f}" width="{bw:.1f}" '
            f'height="{p.b - p.y(a * 100):.1f}" fill="{"#0f766e" if current else "#99d5cf"}">'
            f"<title>{esc(r.get('id'))}: followed {a * 100:.0f} %</title></rect>"
        )
    if not any(r.get("adherence") is not None for r in rows):
        p.add(
            f'<text x="{(p.l + p.r) / 2}" y="{(p.t + p.b) / 2}" class="empty" text-anchor="middle">'
            "no plan to follow</text>"
        )
    _trend_axis_labels(p, rows)
    p.add(f'<text x="{p.l}" y="{p.t - 14}" class="label">followed the plan (%)</text>')
    followed = p.svg("Share of the plan followed, this session and the previous ones", "chart trend")
    # running cadence, steps/min, on an axis of its own
    cads = [c for r in rows if (c := r.get("cadence_run_spm"))]
    c_lo = math.floor((min(cads) - 10) / 10) * 10 if cads else 120
    c_hi = math.ceil((max(cads) + 10) / 10) * 10 if cads else 200
    q = _Plot(NARROW_CHART_W, 170, 0, n, c_lo, c_hi, left=48, right=18, top=30)
    q.y_grid(_nice_step(c_hi - c_lo, 4))
    pts: list[str] = []
    for i, r in enumerate(rows):
        c = r.get("cadence_run_spm")
        if not c:
            continue
        cx, cy = q.x(i + 0.5), q.y(c)
        pts.append(f"{cx:.1f},{cy:.1f}")
        q.add(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{MODE_COLOURS[Mode.RUN]}">'
            f"<title>{esc(r.get('id'))}: running cadence {c:.0f} steps/min</title></circle>"
        )
        q.add(f'<text x="{cx:.1f}" y="{cy - 8:.1f}" class="tick halo" text-anchor="middle">{c:.0f}</text>')
    if len(pts) > 1:
        q.add(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="{MODE_COLOURS[Mode.RUN]}" stroke-width="1.2"/>'
        )
    if not pts:
        q.add(
            f'<text x="{(q.l + q.r) / 2}" y="{(q.t + q.b) / 2}" class="empty" text-anchor="middle">'
            "no running measured</text>"
        )
    _trend_axis_labels(q, rows)
    q.add(f'<text x="{q.l}" y="{q.t - 14}" class="label">running cadence (steps/min)</text>')
    cadence = q.svg("Running cadence, this session and the previous ones", "chart trend")
    return followed + cadence


def _this_row(report: Mapping[str, Any]) -> dict[str, Any]:
    s, m, pain = report["session"], report["summary"], report.get("pain") or {}
    return {
        "id": s["id"],
        "started_at": s["started_at"],
        "stage": s["stage"],
        "complete": s["complete"],
        "adherence": m["adherence"],
        "cadence_walk_spm": m["cadence_walk_spm"],
        "cadence_run_spm": m["cadence_run_spm"],
        "hr_mean_bpm": m["hr_mean_bpm"],
        "pain_after": (pain.get("after") or {}).get("score"),
        "pain_next_morning": (pain.get("next-morning") or {}).get("score"),
    }


def _interval_table(report: Mapping[str, Any]) -> str:
    head = (
        "<tr><th>#</th><th>planned</th><th>detected</th><th>followed</th><th>time to follow the cue</th>"
        "<th>cadence mean ± SD<br><small>steps/min</small></th><th>HR mean / max<br><small>bpm</small></th>"
        "<th>HR recovery<br><small>bpm: run's last 10 s to 50-60 s into the walk</small></th></tr>"
    )
    body = []
    for iv in report["intervals"]:
        label = f" <small>{esc(iv['label'])}</small>" if iv.get("label") else ""
        det = iv.get("detected")
        status = iv["status"]
        det_html = (
            "<em>not reached</em>"
            if status == "not reached"
            else f'<span class="dot" style="background:{MODE_COLOURS.get(det or "unknown")}"></span>{esc(det)}'
            + (f" {_pct(iv.get('detected_share'))}" if iv.get("detected_share") is not None else "")
            + (" <em>(stopped)</em>" if status == "stopped" else "")
        )
        share = iv.get("compliant_share")
        cls = "" if share is None else "good" if share >= 0.8 else "warn" if share >= 0.5 else "bad"
        ttc = iv.get("time_to_comply_s")
        no_plan = (
            report["session"].get("plan_kind", "programme") != "programme" and report["session"]["imported"]
        )
        ttc_s = "never" if ttc is None and status == "completed" and not no_plan else _f(ttc, 0, " s")
        cad = (
            f"{_f(iv.get('cadence_mean_spm'))} ± {_f(iv.get('cadence_sd_spm'))}"
            if iv.get("cadence_mean_spm") is not None
            else "–"
        )
        body.append(
            f'<tr><td>{iv["index"] + 1}</td><td><span class="chip {esc(iv["activity"])}">{esc(iv["activity"])}</span> '
            f"{_mmss(iv['planned_duration_s'])}{label}</td><td>{det_html}</td>"
            f'<td class="{cls}">{_pct(share)}</td><td>{ttc_s}</td><td>{cad}</td>'
            f"<td>{_f(iv.get('hr_mean_bpm'))} / {_f(iv.get('hr_max_bpm'))}</td><td>{_f(iv.get('hr_recovery_bpm'))}</td></tr>"
        )
    return f'<table class="intervals">{head}{"".join(body)}</table>'


def _arrow(cur: Any, prev: Any, *, higher_is_better: bool, tol: float) -> str:
    if cur is None or prev is None:
        return ""
    if abs(cur - prev) <= tol:
        return '<span class="flat">→</span>'
    better = (cur > prev) == higher_is_better
    return f'<span class="{"up" if better else "down"}">{"↑" if cur > prev else "↓"}</span>'


def _previous_table(report: Mapping[str, Any]) -> str:
    rows = [*report.get("previous", []), _this_row(report)]
    out = [
        "<tr><th>session</th><th>stage</th><th>followed</th><th>cadence walk / run</th>"
        "<th>HR mean</th><th>pain after</th><th>pain next morning</th></tr>"
    ]
    prev: Mapping[str, Any] | None = None
    for i, r in enumerate(rows):
        this = i == len(rows) - 1
        a = _arrow(r.get("adherence"), prev and prev.get("adherence"), higher_is_better=True, tol=0.02)
        c = _arrow(
            r.get("cadence_run_spm"), prev and prev.get("cadence_run_spm"), higher_is_better=True, tol=1
        )
        pa = _arrow(r.get("pain_after"), prev and prev.get("pain_after"), higher_is_better=False, tol=0)
        pn = _arrow(
            r.get("pain_next_morning"), prev and prev.get("pain_next_morning"), higher_is_better=False, tol=0
        )
        when = str(r.get("started_at") or "")[:16].replace("T", " ")
        out.append(
            f"<tr{' class=this' if this else ''}><td>{esc(when)}{' (this)' if this else ''}"
            f"{'' if r.get('complete', True) else ' <em>incomplete</em>'}</td><td>{esc(r.get('stage') or '–')}</td>"
            f"<td>{_pct(r.get('adherence'))} {a}</td>"
            f"<td>{_f(r.get('cadence_walk_spm'))} / {_f(r.get('cadence_run_spm'))} {c}</td>"
            f"<td>{_f(r.get('hr_mean_bpm'))}</td><td>{_f(r.get('pain_after'), 1)} {pa}</td>"
            f"<td>{_f(r.get('pain_next_morning'), 1)} {pn}</td></tr>"
        )
        prev = r
    return f'<table class="previous">{"".join(out)}</table>'


#: The style every coach page shares (the session report, the progress summary): type, cards, panels, tables,
#: chart text, and the phone layout below :data:`PHONE_MAX_WIDTH_PX`: one column, cards two to a row, tables
#: scrolling in their own box (``<div class="scroll">``), the ``narrow`` chart variants shown instead of the ``wide``.
#: Text is never below 12 px (chart ticks) so that it stays readable at phone width.
BASE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f9fafb;margin:0;
overflow-wrap:anywhere}
main{max-width:1140px;margin:0 auto;padding:20px 20px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}h3{font-size:15px;margin:14px 0 4px}
small{font-size:12px}
.sub{color:#4b5563;margin:0 0 14px}.badge{display:inline-block;border-radius:4px;padding:1px 7px;font-size:12px;
margin-left:6px;vertical-align:middle}.badge.bad{background:#fee2e2;color:#991b1b}.badge.info{background:#e0e7ff;color:#3730a3}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px;min-width:0}
.card b{display:block;font-size:22px}.card span{color:#6b7280;font-size:13px}
.panel{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 10px}
.row3{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:12px}.row3 h2{font-size:15px}
svg.chart{display:block;width:100%;height:auto}svg.narrow{display:none}
.grid{stroke:#e5e7eb;stroke-width:1}.axis{stroke:#6b7280;stroke-width:1}
.tick{font-size:12px;fill:#4b5563}.label{font-size:13px;fill:#111827;font-weight:600}.value{font-size:13px;font-weight:600}
.empty{font-size:13px;fill:#9ca3af}.halo{paint-order:stroke;stroke:#fff;stroke-width:3px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:5px 8px;text-align:left;overflow-wrap:normal}th{background:#f3f4f6;font-weight:600}
.about{color:#374151;font-size:14px;line-height:1.45}.about p{margin:6px 0}
footer{color:#6b7280;font-size:12px;margin-top:28px}
@media (max-width:PHONEpx){
main{padding:12px 10px 28px}h1{font-size:20px}
.cards{grid-template-columns:1fr 1fr}.card b{font-size:19px}
.panel{padding:6px 6px}
svg.wide{display:none}svg.narrow{display:block}
}
""".replace("PHONE", str(PHONE_MAX_WIDTH_PX))

#: What the session report adds to :data:`BASE_CSS`.
REPORT_CSS = """
.decision{background:#ecfdf5;border:1px solid #a7f3d0;border-radius:8px;padding:12px 16px;margin-top:14px}
.decision.step_back,.decision.stop{background:#fef2f2;border-color:#fecaca}.decision.repeat{background:#fffbeb;border-color:#fde68a}
.ref{stroke:#9a3412;stroke-dasharray:5 4;stroke-width:1}
td.good{color:#047857;font-weight:600}td.warn{color:#b45309;font-weight:600}td.bad{color:#b91c1c;font-weight:600}
tr.this td{background:#f0fdfa;font-weight:600}
.chip{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px}.chip.run{background:#fed7aa}.chip.walk{background:#dbeafe}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px}
.legend span{margin-right:14px;font-size:12px;color:#374151;display:inline-block}.legend i{display:inline-block;
width:12px;height:10px;margin-right:4px;vertical-align:middle}
.up{color:#047857}.down{color:#b91c1c}.flat{color:#6b7280}
.notes li{color:#92400e}
"""
#: The page's Content Security Policy: nothing may be loaded (no scripts, fonts, frames or network requests);
#: only the inline style and inline (data:) images are allowed.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, body_html: str, *, css: str = "") -> str:
    """A whole self-contained page: doctype, viewport meta, the CSP, ``title`` (escaped here), :data:`BASE_CSS`
    plus ``css``, and ``body_html`` (already HTML: escape user text in it with :func:`esc`) inside ``<main>``."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
            f"<title>{esc(title)}</title><style>{BASE_CSS}{css}</style></head><body><main>",
            body_html,
            "</main></body></html>",
        ]
    )


def _legend() -> str:
    items = [
        (PLAN_FILL["walk"], "planned walk"),
        (PLAN_FILL["run"], "planned run"),
        (MODE_COLOURS[Mode.WALK], "detected walking"),
        (MODE_COLOURS[Mode.RUN], "detected running"),
        (MODE_COLOURS[Mode.STILL], "standing still"),
        (MODE_COLOURS[Mode.UNKNOWN], "no signal"),
    ]
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{t}</span>' for c, t in items)
        + "</div>"
    )


#: How to read the report, on the page itself (the file is mailed to people who cannot open coach's docs);
#: docs/report.md says the same at more length.
HOW_TO_READ = """<section class="about"><h2>How to read this page</h2>
<p><b>Followed the plan</b> is the share of the session's time in which the activity coach detected from the chest
strap (walking, running, standing still) matched the planned one; seconds without a signal count neither way.
<b>Time to follow a cue</b> is how long after a spoken change the runner was doing the new activity. Cadence is in
steps per minute, heart rate in beats per minute.</p>
<p><b>Over time:</b> the shaded background is the plan (light blue walk, light orange run); the coloured strip on top
is what was detected (blue walking, orange running, grey standing still, light grey no signal). Where strip and
background differ, the runner was not doing what was planned. The dashed line is the runner's own usual running
cadence.</p>
<p><b>Interval table:</b> <i>followed</i> is green from 80 %, amber from 50 %, red below. <i>HR drop in the walk</i>
is, for a walk after a run, how far heart rate fell from the start of the walk to its end: a larger drop over the
weeks means faster recovery.</p>
<p><b>Cadence histogram:</b> seconds spent at each cadence, walking and running apart; two separate humps are normal.
<b>Pain</b> is the runner's own 0-10 score before, during, after and the next morning: 0-2 is safe, up to 5
acceptable, above 5 too much (pain-monitoring model). <b>Previous sessions:</b> share of the plan followed and
running cadence per session, on separate scales; in the table, arrows compare with the session before (green
better, red worse).</p>
<p><b>Next session</b> is coach's suggestion from the plan followed and the pain scores. A session marked
<i>incomplete</i> ended early: its numbers cover only what was recorded. A <i>demo</i> or rehearsal session was not
run by a person and never counts towards progression.</p></section>"""


HOW_TO_READ_EXERCISE = """<section class="about"><h2>How to read this page</h2>
<p>A guided exercise routine (<code>coach exercise</code>): the exercises and the dose done in this session, heart
rate if a chest strap was worn (beats per minute), and the runner's own pain score from 0 to 10. The rule for
exercises is <b>no pain during or after</b>: the dose moves up a notch after pain-free sessions and back when pain
rises. The routine and its starting dose are the physio's to set.</p></section>"""


def render_exercise_html(report: Mapping[str, Any]) -> str:
    """The page of a guided exercise routine: the exercises and doses, heart rate (with a strap), pain."""
    s, m = report["session"], report["summary"]
    badges = ""
    if not s["complete"]:
        badges += f'<span class="badge bad">incomplete: {esc(s["end_reason"])}</span>'
    if s.get("rehearsal"):
        badges += f'<span class="badge info">rehearsal: {esc(s.get("rehearsal_reason"))}</span>'
    exercises = s.get("exercises") or []
    pain = report.get("pain") or {}
    after = (pain.get("after") or {}).get("score")
    cards = [
        (f"{_mmss(s['duration_s'])}", f"of {_mmss(s['planned_duration_s'])} planned"),
        (str(len(exercises)), "exercises"),
        (_f(s.get("dose_level")), "dose notch (0 = the routine file's)"),
        (f"{_f(m['hr_mean_bpm'])} / {_f(m['hr_max_bpm'])}", "heart rate mean / max (bpm)"),
        (_f(after, 0), "pain after (0-10)"),
    ]
    rows = "".join(
        f"<tr><td>{esc(e.get('index', 0) + 1)}</td><td>{esc(e.get('name'))}</td><td>{esc(e.get('dose'))}</td>"
        f"<td>{'each side' if e.get('sides') == 'left/right' else ''}</td></tr>"
        for e in exercises
    )
    hr = (
        '<h2>Heart rate over time</h2><div class="panel">'
        f"{timeseries_svg(report, 'hr_bpm', 'heart rate', 'bpm', '#be123c')}"
        f"{timeseries_svg(report, 'hr_bpm', 'heart rate', 'bpm', '#be123c', narrow=True)}</div>"
        if m.get("hr_mean_bpm") is not None
        else ""
    )
    warnings = "".join(f"<li>{esc(w)}</li>" for w in report.get("warnings", []))
    when = esc(str(s.get("started_at") or "").replace("T", " "))
    parts = [
        f"<h1>{esc(s.get('routine_title') or s.get('routine') or 'Exercise routine')}{badges}</h1>",
        f'<p class="sub">exercise routine · session {esc(s["id"])} · {when}</p>',
        "<div class=cards>"
        + "".join(f"<div class=card><b>{v}</b><span>{esc(t)}</span></div>" for v, t in cards)
        + "</div>",
        "<h2>Exercises</h2>",
        '<div class="scroll"><table><tr><th>#</th><th>exercise</th><th>dose</th><th>sides</th></tr>'
        f"{rows}</table></div>",
        hr,
        f'<div style="max-width:420px"><h2>Pain</h2><div class="panel">{pain_svg(pain)}</div></div>',
        f'<h2>Notes</h2><ul class="notes">{warnings}</ul>' if warnings else "",
        HOW_TO_READ_EXERCISE,
        "<footer>Made by coach from the session folder; no data left this computer. Coaching, not diagnosis: "
        "a physio's assessment comes first.</footer>",
    ]
    return page(f"coach report {s['id']}", "\n".join(p for p in parts if p), css=REPORT_CSS)


def _estimator(session: Mapping[str, Any]) -> str:
    """``after-run`` or ``live`` (a report model made before the field: imports were after the run)."""
    return str(session.get("estimator") or ("after-run" if session.get("imported") else "live"))


def render_html(report: Mapping[str, Any]) -> str:
    """The whole page as a string (a guided exercise routine: :func:`render_exercise_html`)."""
    s, m = report["session"], report["summary"]
    if s.get("activity") == SessionActivity.EXERCISE:
        return render_exercise_html(report)
    badges = ""
    if not s["complete"]:
        badges += f'<span class="badge bad">incomplete: {esc(s["end_reason"])}</span>'
    if s["imported"]:
        badges += '<span class="badge info">imported</span>'
    if s["demo"]:
        badges += '<span class="badge info">demo</span>'
    stage = f"stage {esc(s['stage'])}" if s.get("stage") is not None else "no stage"
    title = esc(
        s.get("programme_title")
        or s.get("programme")
        or ("Imported recording" if s["imported"] else "Session")
    )
    when = esc(str(s.get("started_at") or "").replace("T", " "))
    cards = [
        (_pct(m["adherence"]), "followed the plan"),
        (f"{m['intervals_done']} / {m['intervals_planned']}", "intervals done"),
        (f"{_mmss(s['duration_s'])}", f"of {_mmss(s['planned_duration_s'])} planned"),
        (
            _f(m["time_to_comply_median_s"], 0, " s"),
            "median time to follow a cue"
            + (
                f" ({m['intervals_never_followed']} never followed)"
                if m.get("intervals_never_followed")
                else ""
            ),
        ),
        (
            f"{_f(m['cadence_walk_spm'])} / {_f(m['cadence_run_spm'])}",
            # which estimator cadence and walk/run come from (docs/report.md)
            "cadence walk / run (steps/min, "
            + ("after the run" if _estimator(s) == "after-run" else "as measured live")
            + ")",
        ),
        (
            f"{_f(m['hr_mean_bpm'])} / {_f(m['hr_max_bpm'])}",
            "heart rate mean / max (bpm)"
            + (
                f", {m['hr_share_rejected'] * 100:.0f} % of samples rejected as artefacts"
                if m.get("hr_share_rejected")
                else ""
            ),
        ),
    ]
    cards_html = "".join(f"<div class=card><b>{v}</b><span>{esc(t)}</span></div>" for v, t in cards)
    dec = report.get("decision")
    dec_html = ""
    if dec:
        action = {
            "start": "Start",
            "progress": "Move on",
            "repeat": "Repeat",
            "step_back": "Step back",
            "stop": "Pause and see your physio",
        }.get(dec["action"], dec["action"])
        base = dec.get("walking_base")
        if base:
            target = f"{base['target_min']:g}"
            next_html = (
                f"<b>Next session: walking base {esc(base['step'])}, a walk with {esc(target)} min at brisk cadence "
                f"(coach walk).</b> {' '.join(esc(r) for r in base['reasons'])}"
            )
        else:
            next_html = (
                f"<b>Next session: {esc(action)}, stage {esc(dec['next_stage'])}.</b> "
                f"{' '.join(esc(r) for r in dec['reasons'])}"
            )
        dec_html = (
            f'<div class="decision {esc(dec["action"])}">{next_html}'
            + (
                " <i>This session was "
                + str(s.get("rehearsal_reason"))
                + ": it is kept in the history but does not count towards progression.</i>"
                if s.get("rehearsal")
                else ""
            )
            + "</div>"
        )
    pain = report.get("pain") or {}
    notes = [f"{name}: {p['note']}" for key, name in PAIN_WHEN if (p := pain.get(key)) and p.get("note")]
    pain_notes = "".join(f"<li>{esc(n)}</li>" for n in notes)
    warnings = "".join(f"<li>{esc(w)}</li>" for w in report.get("warnings", []))
    note = f'<p class="sub">{esc(s["note"])}</p>' if s.get("note") else ""
    parts = [
        f"<h1>{title}, {stage}{badges}</h1>",
        '<p class="sub">'
        + " · ".join(
            x
            for x in (
                esc(s.get("stage_title") or ""),
                f"session {esc(s['id'])}",
                when,
                f"source {esc(short_source(s.get('source')))}" if s.get("source") else "",
            )
            if x
        )
        + "</p>",
        note,
        f'<div class="cards">{cards_html}</div>',
        dec_html,
        "<h2>Cadence and heart rate over time</h2>",
        _legend(),
        *(
            f'<div class="panel" style="margin-top:10px">'
            f"{timeseries_svg(report, key, name, unit, colour)}"
            f"{timeseries_svg(report, key, name, unit, colour, narrow=True)}</div>"
            for key, name, unit, colour in (
                ("cadence_spm", "cadence", "steps/min", "#111827"),
                ("hr_bpm", "heart rate", "bpm", "#be123c"),
            )
        ),
        "<h2>Planned vs done, interval by interval</h2>",
        f'<div class="scroll">{_interval_table(report)}</div>',
        '<div class="row3"><div><h2>Cadence: walking vs running</h2>',
        f'<div class="panel">{histogram_svg(report)}</div></div>',
        f'<div><h2>Pain</h2><div class="panel">{pain_svg(pain)}</div>'
        + (f'<ul class="notes">{pain_notes}</ul>' if pain_notes else "")
        + "</div>",
        f'<div><h2>This session and the previous ones</h2><div class="panel">{trend_svg(report)}</div></div></div>',
        "<h2>Session by session</h2>",
        f'<div class="scroll">{_previous_table(report)}</div>',
        f'<h2>Notes</h2><ul class="notes">{warnings}</ul>' if warnings else "",
        HOW_TO_READ,
        "<footer>Made by coach from the session folder; no data left this computer. Coaching, not diagnosis: "
        "a physio's assessment comes first.</footer>",
    ]
    return page(f"coach report {s['id']}", "\n".join(p for p in parts if p), css=REPORT_CSS)
