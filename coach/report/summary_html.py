"""The progress summary (:func:`coach.report.summary.build_summary`) as one self-contained HTML page.

For a phone first: one column below :data:`PHONE_MAX_PX`, charts in cards that wrap, tables that scroll inside
their own box, no scripts, no network (a Content-Security-Policy says so), every piece of user or file text through
:func:`coach.report.html.esc`. Each chart is an inline SVG :data:`CHART_W` units wide, drawn at 90-125 % of that
width on a phone and a desktop alike, so its text (:data:`CHART_FONT_PX`) never shrinks below 11 px: the page
re-lays out (cards wrap) rather than scaling charts down. docs/summary.md says how to read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from coach.report.html import NOT_MEASURED, PHONE_MAX_WIDTH_PX, esc, page

#: Chart size in SVG units; a chart is drawn at most CHART_MAX_SCALE times that wide.
CHART_W, CHART_H = 340, 200
CHART_MAX_SCALE = 1.25
#: Font size of chart text in SVG units (the smallest text on the page stays above 11 px at 390 px wide).
CHART_FONT_PX = 12
#: Below this width the page is one column.
PHONE_MAX_PX = PHONE_MAX_WIDTH_PX  # one column below the same width as the report
#: At most this many week labels on a time axis.
MAX_WEEK_TICKS = 7
PAIN_COLOURS = {"before": "#6b7280", "after": "#ea580c", "next-morning": "#2563eb"}
PAIN_NAMES = {"before": "before", "after": "after", "next-morning": "next morning"}
EARLY_FILL = "#fef3c7"
FLARE_COLOUR = "#b91c1c"


def _f(v: Any, nd: int = 0, unit: str = "") -> str:
    return NOT_MEASURED if v is None else f"{v:.{nd}f}{unit}"


def _pct(v: Any) -> str:
    return NOT_MEASURED if v is None else f"{v * 100:.0f} %"


class _Chart:
    """A CHART_W x CHART_H plot of per-session values against days since the first session."""

    def __init__(self, x1: float, y0: float, y1: float, *, left: int = 40, bottom: int = 30) -> None:
        self.l, self.r, self.t, self.b = left, CHART_W - 12, 12, CHART_H - bottom
        self.x1 = max(x1, 1.0)
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1
        self.parts: list[str] = []

    def x(self, day: float) -> float:
        return self.l + day / self.x1 * (self.r - self.l)

    def y(self, v: float) -> float:
        return self.b - (v - self.y0) / (self.y1 - self.y0) * (self.b - self.t)

    def add(self, s: str) -> None:
        self.parts.append(s)

    def band(self, d0: float, d1: float, fill: str) -> None:
        x0, x1 = self.x(d0), self.x(min(d1, self.x1))
        self.add(
            f'<rect x="{x0:.1f}" y="{self.t}" width="{max(x1 - x0, 0):.1f}" height="{self.b - self.t}" '
            f'fill="{fill}"/>'
        )

    def hline(self, v: float, klass: str) -> None:
        yy = self.y(v)
        self.add(f'<line x1="{self.l}" x2="{self.r}" y1="{yy:.1f}" y2="{yy:.1f}" class="{klass}"/>')

    def axes(self, step: float, fmt: str = "{:g}") -> None:
        v = math.ceil(self.y0 / step) * step
        while v <= self.y1 + 1e-9:
            self.hline(v, "gl")
            self.add(
                f'<text x="{self.l - 5}" y="{self.y(v) + 4:.1f}" class="t" text-anchor="end">'
                f"{esc(fmt.format(v))}</text>"
            )
            v += step
        weeks = math.ceil(self.x1 / 7)
        every = max(1, math.ceil(weeks / MAX_WEEK_TICKS))
        for k in range(0, weeks + 1, every):
            if 7 * k > self.x1 + 1e-9:
                break
            xx = self.x(7 * k)
            self.add(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{self.b}" y2="{self.b + 4}" class="axis"/>')
            self.add(f'<text x="{xx:.1f}" y="{self.b + 17}" class="t" text-anchor="middle">wk {k + 1}</text>')
        self.add(f'<line x1="{self.l}" x2="{self.r}" y1="{self.b}" y2="{self.b}" class="axis"/>')

    def series(
        self, days: Sequence[float], values: Sequence[float | None], colour: str, *, dash: str = ""
    ) -> None:
        pts = [(self.x(d), self.y(v)) for d, v in zip(days, values, strict=True) if v is not None]
        if len(pts) >= 2:
            d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts))
            extra = f' stroke-dasharray="{dash}"' if dash else ""
            self.add(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>')
        for x, y in pts:
            self.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')

    def empty(self, text: str) -> None:
        self.add(
            f'<text x="{(self.l + self.r) / 2:.1f}" y="{(self.t + self.b) / 2:.1f}" class="t" '
            f'text-anchor="middle">{esc(text)}</text>'
        )

    def svg(self, title: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {CHART_W} {CHART_H}" '
            f'width="100%" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
            + "".join(self.parts)
            + "</svg>"
        )


def _span(summary: Mapping[str, Any]) -> float:
    days = [float(s["day"]) for s in summary["sessions"]]
    return max([*days, float(summary["early_days"])]) + 1


def _nice_range(values: Sequence[float | None], pad: float, step: float) -> tuple[float, float]:
    vs = [v for v in values if v is not None]
    if not vs:
        return 0.0, step
    lo = math.floor((min(vs) - pad) / step) * step
    hi = math.ceil((max(vs) + pad) / step) * step
    return lo, hi if hi > lo else lo + step


def pain_svg(summary: Mapping[str, Any]) -> str:
    sessions = summary["sessions"]
    th = summary["thresholds"]
    c = _Chart(_span(summary), 0, 10, left=30)
    c.band(0, summary["early_days"], EARLY_FILL)
    c.axes(2)
    c.hline(th["pain_safe_max"], "ref safe")
    c.hline(th["pain_acceptable_max"], "ref bad")
    days = [s["day"] for s in sessions]
    for kind, colour in PAIN_COLOURS.items():
        c.series(days, [s["pain"][kind] for s in sessions], colour, dash="5 4" if kind == "before" else "")
    for s in sessions:
        if s["flare_up"] and s["worst_pain"] is not None:
            xx, yy = c.x(s["day"]), c.y(s["worst_pain"])
            c.add(
                f'<circle cx="{xx:.1f}" cy="{yy:.1f}" r="7" fill="none" stroke="{FLARE_COLOUR}" stroke-width="2"/>'
            )
    if not any(s["pain"][k] is not None for s in sessions for k in PAIN_COLOURS):
        c.empty("no pain scores logged")
    return c.svg("pain 0-10 before, after and the next morning, by week")


def stage_svg(summary: Mapping[str, Any]) -> str:
    staged = [s for s in summary["sessions"] if s["stage"] is not None]
    top = max([s["stage"] for s in staged] + [2])
    c = _Chart(_span(summary), 0.5, top + 0.5, left=30)
    c.axes(1 if top <= 8 else math.ceil(top / 8), "{:.0f}")
    pts = [(c.x(s["day"]), c.y(s["stage"])) for s in staged]
    if pts:
        d = "M" + " L".join(
            f"{x:.1f},{pts[i - 1][1] if i else y:.1f} L{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts)
        )
        c.add(f'<path d="{d}" fill="none" stroke="#0f766e" stroke-width="2"/>')
    for s, (x, y) in zip(staged, pts, strict=True):
        colour = FLARE_COLOUR if s["flare_up"] else "#0f766e"
        c.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    if not pts:
        c.empty("no programme stages")
    return c.svg("stage of each session, by week")


def adherence_svg(summary: Mapping[str, Any]) -> str:
    sessions = summary["sessions"]
    c = _Chart(_span(summary), 0, 100, left=48)
    c.axes(25, "{:.0f} %")
    c.hline(summary["thresholds"]["min_adherence"] * 100, "ref safe")
    bar = max(2.0, min(10.0, (c.r - c.l) / max(len(sessions), 1) * 0.6))
    for s in sessions:
        if s["adherence"] is None:
            continue
        x, y = c.x(s["day"]), c.y(s["adherence"] * 100)
        c.add(
            f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{c.b - y:.1f}" fill="#0f766e"/>'
        )
    if not any(s["adherence"] is not None for s in sessions):
        c.empty("no adherence measured")
    return c.svg("share of each session done as planned, by week")


def _value_svg(summary: Mapping[str, Any], key: str, title: str, colour: str, pad: float, step: float) -> str:
    sessions = summary["sessions"]
    values = [s[key] for s in sessions]
    lo, hi = _nice_range(values, pad, step)
    c = _Chart(_span(summary), lo, hi)
    c.axes(step)
    c.series([s["day"] for s in sessions], values, colour)
    if all(v is None for v in values):
        c.empty("not measured")
    return c.svg(title)


def healing_svg(summary: Mapping[str, Any]) -> str:
    """The weeks since the first session on a bar with the typical healing window shaded."""
    h, weeks = summary["healing"], summary["course"]["weeks_since_first"] or 0.0
    end = max(h["max_weeks"], weeks) * 1.1
    left, right, y, height = 12, CHART_W - 12, 30, 26

    def x(w: float) -> float:
        return float(left + w / end * (right - left))

    third = (right - left) / 3
    anchor = "start" if x(weeks) < left + third else "end" if x(weeks) > right - third else "middle"
    parts = [
        f'<rect x="{left}" y="{y}" width="{right - left}" height="{height}" fill="#f3f4f6"/>',
        f'<rect x="{x(h["min_weeks"]):.1f}" y="{y}" width="{x(h["max_weeks"]) - x(h["min_weeks"]):.1f}" '
        f'height="{height}" fill="#bbf7d0"/>',
        f'<line x1="{x(weeks):.1f}" x2="{x(weeks):.1f}" y1="{y - 8}" y2="{y + height + 8}" stroke="#111827" '
        'stroke-width="3"/>',
        f'<text x="{x(weeks):.1f}" y="{y - 12}" class="t" text-anchor="{anchor}">now: {weeks:g} wk</text>',
        f'<text x="{x(h["min_weeks"]):.1f}" y="{y + height + 22}" class="t" text-anchor="middle">'
        f"{h['min_weeks']:g}</text>",
        f'<text x="{x(h["max_weeks"]):.1f}" y="{y + height + 22}" class="t" text-anchor="middle">'
        f"{h['max_weeks']:g} wk</text>",
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {CHART_W} 90" width="100%" '
        f'role="img" aria-label="weeks since the first session against the typical healing time">'
        "<title>weeks since the first session against the typical healing time</title>"
        + "".join(parts)
        + "</svg>"
    )


#: What the progress summary adds to the style every coach page shares (:data:`coach.report.html.BASE_CSS`: type,
#: cards, panels, tables, the phone layout): its panels of small charts, its chart text and reference lines.
SUMMARY_CSS = f"""
.panels{{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,330px),1fr));gap:12px;margin:14px 0}}
.panel{{min-width:0}}.panel p{{margin:6px 0 0;font-size:13px;color:#374151}}
svg.chart{{max-width:{CHART_W * CHART_MAX_SCALE:.0f}px;margin:0 auto}}
.t{{font-size:{CHART_FONT_PX}px;fill:#374151}}
.gl{{stroke:#e5e7eb;stroke-width:1}}
.ref{{stroke-dasharray:5 4;stroke-width:1.5}}.ref.safe{{stroke:#047857}}.ref.bad{{stroke:#b91c1c}}
.legend{{font-size:13px;color:#374151}}.legend span{{margin-right:12px;white-space:nowrap}}
.legend i{{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}}
th,td{{white-space:nowrap}}tr.early td{{background:#fffbeb}}td.bad{{color:#b91c1c;font-weight:600}}
ul.steps li,ul.missing li{{margin:4px 0}}.back{{color:#b91c1c;font-weight:600}}.forward{{color:#047857;font-weight:600}}
ul.missing li{{color:#92400e}}
@media (max-width:{PHONE_MAX_PX}px){{.panels{{grid-template-columns:1fr}}}}
@media print{{body{{background:#fff}}main{{padding:0}}.panel,tr{{break-inside:avoid}}.scroll{{overflow:visible}}
th,td{{white-space:normal;padding:3px 4px}}}}
"""


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{esc(t)}</span>' for c, t in items)
        + "</div>"
    )


def _slope(t: Mapping[str, Any], unit: str, scale: float = 1.0, nd: int = 1) -> str:
    if t["slope_per_week"] is None:
        return "not enough sessions for a trend"
    v = t["slope_per_week"] * scale
    return f"{'+' if v >= 0 else ''}{v:.{nd}f} {unit} per week (first {t['first'] * scale:.{nd}f}, last {t['last'] * scale:.{nd}f})"


def _session_table(summary: Mapping[str, Any]) -> str:
    head = (
        "<tr><th>date</th><th>week</th><th>stage</th><th>followed</th><th>cadence walk</th><th>cadence run</th>"
        "<th>HR recovery</th><th>pain before</th><th>after</th><th>next morning</th><th>next step</th></tr>"
    )
    rows = []
    for s in summary["sessions"]:
        p, dec = s["pain"], s["decision"]
        step = ""
        if dec:
            step = {"progress": "move on", "step_back": "step back", "stop": "see physio"}.get(
                dec["action"], dec["action"]
            )
            step = f"{step} (stage {dec['next_stage']})"
        bad = ' class="bad"' if s["flare_up"] else ""
        rows.append(
            f'<tr class="{"early" if s["early"] else ""}"><td>{esc(s["date"])}</td><td>{s["week"]}</td>'
            f"<td>{esc(_stage_cell(s))}</td><td>{_pct(s['adherence'])}</td>"
            f"<td>{_f(s['cadence_walk_spm'])}</td><td>{_f(s['cadence_run_spm'])}</td>"
            f"<td>{_f(s['hr_recovery_bpm'], 0, ' bpm')}</td><td>{_f(p['before'], 1)}</td>"
            f"<td{bad}>{_f(p['after'], 1)}</td><td>{_f(p['next-morning'], 1)}</td>"
            f"<td{bad}>{esc(step or NOT_MEASURED)}</td></tr>"
        )
    return f'<div class="scroll"><table class="sessions">{head}{"".join(rows)}</table></div>'


def _stage_cell(s: Mapping[str, Any]) -> str:
    """The stage column: the stage, or for a walk "walk" with its walking-base step and brisk minutes."""
    if s.get("activity") != "walk":
        return _f(s["stage"])
    step = f" {s['walk_step']}" if s.get("walk_step") else ""
    brisk = "" if s.get("brisk_walk_min") is None else f", {s['brisk_walk_min']:.0f} min brisk"
    return f"walk{step}{brisk}"


def _moving_table(summary: Mapping[str, Any]) -> str:
    """Moving minutes per calendar week (coach.plan.moving): walks, run/walk sessions, brisk walking."""
    weeks = summary.get("moving") or []
    if not weeks:
        return ""
    head = (
        "<tr><th>week of</th><th>moving (min)</th><th>walks (min)</th><th>run/walk sessions (min)</th>"
        "<th>brisk walking (min)</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{esc(w['week_start'])}</td><td>{_f(w['moving_min'])}</td>"
        f"<td>{_f(w['walk_min'])} ({esc(w['walks'])})</td>"
        f"<td>{_f(w['run_session_min'])} ({esc(w['sessions'] - w['walks'])})</td><td>{_f(w['brisk_min'])}</td></tr>"
        for w in weeks
    )
    return (
        "<h2>Moving minutes by week</h2><p>Walks (coach walk, imported walks) and whole run/walk sessions; brisk "
        "walking is 100 steps/min or more (Tudor-Locke et al. 2018, 2019).</p>"
        f'<div class="scroll"><table class="sessions">{head}{rows}</table></div>'
    )


def render_summary_html(summary: Mapping[str, Any]) -> str:
    """The whole page as a string."""
    c, st, tr = summary["course"], summary["stages"], summary["trends"]
    h = summary["healing"]
    weeks = c["weeks_since_first"]
    cards = [
        (_f(weeks, 1), "weeks since the first session"),
        (str(c["sessions"]), "sessions"),
        (_f(st["current"]), f"stage now (highest {_f(st['highest'])})"),
        (str(len(summary["flare_ups"])), "flare-ups"),
    ]
    cards_html = "".join(f"<div class=card><b>{esc(v)}</b><span>{esc(t)}</span></div>" for v, t in cards)
    left_out = (
        f"{c['rehearsals_left_out']} rehearsal{'' if c['rehearsals_left_out'] == 1 else 's'} left out ("
        + ", ".join(f"{n} {esc(why)}" for why, n in sorted(c["rehearsals_by_reason"].items()))
        + ")"
        if c["rehearsals_left_out"]
        else "no rehearsals to leave out"
    )
    if h:
        where = {
            "before": "before the typical healing time",
            "within": "within the typical healing time",
            "beyond": "beyond the typical healing time: worth raising with the physio",
            None: "",
        }[h["position"]]
        healing = (
            f'<div class="panel"><h2>Time since the first session</h2>{healing_svg(summary)}'
            f"<p>{esc(_f(weeks, 1))} weeks since the first session ({esc(where)}). Typical healing time for "
            f"{esc(h['what'])}: {esc(h['time'])} (shaded). Counted from the first coached session, not from the "
            "injury.</p></div>"
        )
    else:
        healing = (
            '<div class="panel"><h2>Time since the first session</h2>'
            f"<p>{esc(_f(weeks, 1))} weeks since the first session. No injury category is set, so there is no "
            "healing time to compare with (<code>coach plan --injury CATEGORY</code>).</p></div>"
        )
    ep = summary["early_pain"]
    early_words = (
        "; ".join(
            f"{PAIN_NAMES[k]} {v['first']:g} to {v['last']:g}"
            for k, v in ep.items()
            if v["change"] is not None
        )
        or "fewer than two scores of a kind"
    )
    pain = (
        f'<div class="panel"><h2>Pain, 0-10</h2>{pain_svg(summary)}'
        + _legend(
            [(EARLY_FILL, f"first {summary['early_days']} days")]
            + [(col, PAIN_NAMES[k]) for k, col in PAIN_COLOURS.items()]
        )
        + f"<p>First two weeks: {esc(early_words)}. Dashed lines: safe up to "
        f"{summary['thresholds']['pain_safe_max']:g}, acceptable up to "
        f"{summary['thresholds']['pain_acceptable_max']:g}; a red ring is a flare-up.</p></div>"
    )
    stages = f'<div class="panel"><h2>Stages</h2>{stage_svg(summary)}<p>A red dot: a flare-up after that session.</p></div>'
    adherence = (
        f'<div class="panel"><h2>Followed the plan</h2>{adherence_svg(summary)}'
        f"<p>Trend: {esc(_slope(tr['adherence'], 'points', 100, 0))}. Dashed: the "
        f"{summary['thresholds']['min_adherence'] * 100:.0f} % aimed for.</p></div>"
    )
    walk = (
        '<div class="panel"><h2>Walking cadence (steps/min)</h2>'
        + _value_svg(summary, "cadence_walk_spm", "walking cadence by week", "#2563eb", 3, 5)
        + f"<p>Trend: {esc(_slope(tr['cadence_walk_spm'], 'steps/min'))}.</p></div>"
    )
    run = (
        '<div class="panel"><h2>Running cadence (steps/min)</h2>'
        + _value_svg(summary, "cadence_run_spm", "running cadence by week", "#ea580c", 3, 5)
        + f"<p>Trend: {esc(_slope(tr['cadence_run_spm'], 'steps/min'))}.</p></div>"
    )
    hr = (
        '<div class="panel"><h2>Heart-rate recovery (bpm)</h2>'
        + _value_svg(summary, "hr_recovery_bpm", "heart-rate recovery by week", "#be123c", 3, 5)
        + f"<p>How far heart rate falls in the walk breaks after a run (higher: fitter). Trend: "
        f"{esc(_slope(tr['hr_recovery_bpm'], 'bpm'))}.</p></div>"
    )
    steps = "".join(
        f'<li><span class="{esc(s["change"])}">{esc(s["date"])}: '
        + (
            f"stage {esc(s['to_stage'])}"
            if s["change"] == "start"
            else f"{'forward' if s['change'] == 'forward' else 'back'} from stage {esc(s['from_stage'])} to "
            f"{esc(s['to_stage'])}"
        )
        + f"</span>. {esc(s['reason'])}</li>"
        for s in st["steps"]
    )
    nxt = st["next"]
    next_html = (
        f"<p><b>Next session: stage {esc(nxt['next_stage'])}.</b> {esc(' '.join(nxt['reasons']))}</p>"
        if nxt
        else ""
    )
    flares = "".join(
        f"<li>{esc(f['date'])}, stage {esc(_f(f['stage']))}: pain reached {esc(_f(f['worst_pain'], 1))}/10 (a step back after it)</li>"
        for f in summary["flare_ups"]
    )
    missing = "".join(f"<li>{esc(m[:1].upper() + m[1:])}.</li>" for m in summary["missing"])
    parts = [
        "<h1>Progress summary</h1>",
        f'<p class="sub">{esc(c["sessions"])} sessions from {esc(c["first"] or NOT_MEASURED)} to '
        f"{esc(c['last'] or NOT_MEASURED)}, as of {esc(summary['today'])}"
        + (f" · programme {esc(', '.join(c['programmes']))}" if c["programmes"] else "")
        + f" · {left_out}</p>",
        f'<div class="cards">{cards_html}</div>',
        f'<div class="panels">{healing}{pain}{stages}{adherence}{walk}{run}{hr}</div>',
        f"<h2>Stage by stage</h2><ul class=steps>{steps or '<li>No programme stages yet.</li>'}</ul>{next_html}",
        f"<h2>Flare-ups</h2><ul>{flares}</ul>" if flares else "<h2>Flare-ups</h2><p>None.</p>",
        "<h2>Session by session</h2>",
        _session_table(summary),
        _moving_table(summary),
        f"<h2>What is missing</h2><ul class=missing>{missing}</ul>" if missing else "",
        "<footer>Made by coach from the runner's own sessions, on their own computer: nothing was sent anywhere. "
        "Each row is one coached walk/run session; pain is the runner's own score from 0 (none) to 10 (worst), "
        "before the session, after it and the next morning; the shaded rows and band are the first two weeks, "
        "whose pain change tells most. Demos and replays are left out. Coaching, not diagnosis: a physio's "
        "assessment comes first.</footer>",
    ]
    return page(
        f"coach progress summary {summary['today']}", "\n".join(p for p in parts if p), css=SUMMARY_CSS
    )
