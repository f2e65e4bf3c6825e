"""Cue latency benchmark: at real-time speed, does a change cue start within 0.3 s of its planned time?

A simulated session of cues (heads-up, advice that is still playing when the change is due, the change itself) is
played against the wall clock through the real voice: the pyttsx3 worker (or its fallbacks) prerenders every phrase,
then each cue is spoken at its planned time, and the runner's rule "an interval change pre-empts advice" calls
``interrupt()``. Latency = ``SpokenCue.t_start - planned_t`` (the player process was running). With no sound card the
cues go to a null player that holds for each WAV's real duration (so overlaps still happen), or, with
``--player sox-null``, to a ``sox FILE -n`` process (real spawn cost, no pacing).

Run: ``python -m bench.voice_bench`` (``--changes N``, ``--spacing-s S``, ``--player auto|null|sox-null``,
``--no-prerender`` to see what prerendering buys).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.voice.audio import NullPlayer, Player, ProcessPlayer, detect_player, write_wav
from coach.voice.speaker import make_voice

TARGET_S = 0.3


class SessionClock:
    """Real time, in seconds since the session started."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class PlannedCue:
    t: float
    kind: str  # "heads_up", "advice", "change"
    text: str


def session_plan(n_changes: int, spacing_s: float) -> list[PlannedCue]:
    """Alternating run/walk changes every ``spacing_s``; a heads-up 2.5 s before each; every third change arrives
    while a piece of advice (started 0.6 s before) is still being spoken."""
    cues: list[PlannedCue] = []
    t = 3.0
    for i in range(n_changes):
        activity, length = ("Run", "one minute") if i % 2 == 0 else ("Walk", "four minutes")
        cues.append(PlannedCue(t - 2.5, "heads_up", f"{activity} in ten seconds"))
        if i % 3 == 1:
            cues.append(PlannedCue(t - 0.6, "advice", "Quicker, lighter steps"))
        cues.append(PlannedCue(t, "change", f"{activity} for {length}"))
        t += spacing_s
    return cues


async def _pipeline_load(stop: asyncio.Event) -> None:
    """Stand-in for the signal pipeline sharing the event loop: a small FFT every 20 ms."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4096)
    while not stop.is_set():
        np.abs(np.fft.rfft(x))
        await asyncio.sleep(0.02)


async def _choose_player(kind: str, cache: Path) -> Player:
    if kind == "null":
        return NullPlayer(pace=True)
    if kind == "sox-null":
        return ProcessPlayer("sox-null", ["sox", "-q", "{path}", "-n"])
    probe = cache / "probe.wav"
    write_wav(probe, np.zeros(1000, dtype=np.float32), 22050)
    player, _ = await detect_player(probe)
    return player if player is not None else NullPlayer(pace=True)


@dataclass(frozen=True)
class VoiceBenchResult:
    engine: str
    player: str
    cue_backends: list[str]
    prerender_s: float
    n_phrases: int
    n_changes: int
    interrupts: int
    change_median_s: float
    change_worst_s: float
    heads_up_worst_s: float
    notices: list[str]

    @property
    def passed(self) -> bool:
        return self.change_worst_s <= TARGET_S


async def run(
    n_changes: int = 12, spacing_s: float = 4.0, player_kind: str = "auto", prerender: bool = True
) -> VoiceBenchResult:
    with tempfile.TemporaryDirectory(prefix="coach-voice-bench-") as tmp:
        cache = Path(tmp)
        player = await _choose_player(player_kind, cache)
        clock = SessionClock()
        notices: list[str] = []
        voice = make_voice("tts", cache_dir=cache / "wav", audio_out=None, clock=clock, echo=notices.append,
                           player=player)  # fmt: skip
        plan = session_plan(n_changes, spacing_s)
        t = time.monotonic()
        await voice.prerender(c.text for c in plan if prerender)
        prerender_s = time.monotonic() - t
        stop = asyncio.Event()
        load = asyncio.get_running_loop().create_task(_pipeline_load(stop))
        clock.t0 = time.monotonic()
        late: dict[str, list[float]] = {"change": [], "heads_up": [], "advice": []}
        backends: set[str] = set()
        interrupts = 0
        try:
            for cue in plan:
                await clock.sleep(cue.t - clock.now())
                if cue.kind == "change" and voice.busy:
                    voice.interrupt()
                    interrupts += 1
                spoken = await voice.say(cue.text, planned_t=cue.t, kind=cue.kind)
                late[cue.kind].append(spoken.t_start - cue.t)
                backends.add(spoken.backend)
            await voice.wait_idle()
        finally:
            stop.set()
            await load
            await voice.close()
    changes = late["change"]
    return VoiceBenchResult(
        engine=voice.backend_name,
        player=player.name,
        cue_backends=sorted(backends),
        prerender_s=prerender_s,
        n_phrases=len({c.text for c in plan}),
        n_changes=len(changes),
        interrupts=interrupts,
        change_median_s=statistics.median(changes),
        change_worst_s=max(changes),
        heads_up_worst_s=max(late["heads_up"]),
        notices=notices,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=12)
    ap.add_argument("--spacing-s", type=float, default=4.0)
    ap.add_argument("--player", choices=["auto", "null", "sox-null"], default="auto")
    ap.add_argument(
        "--no-prerender", action="store_true", help="render each phrase when first said (cold cache)"
    )
    ap.add_argument("--write", action="store_true", help="write the voice section of bench/RESULTS.md")
    args = ap.parse_args(argv)
    r = asyncio.run(run(args.changes, args.spacing_s, args.player, prerender=not args.no_prerender))
    print(f"voice cue latency (real time, {'cold cache' if args.no_prerender else 'prerendered phrases'})")
    print(f"  engine {r.engine}, player {r.player}, cues played by {', '.join(r.cue_backends)}")
    if not args.no_prerender:
        print(f"  prerender {r.n_phrases} phrases: {r.prerender_s:.2f} s")
    print(
        f"  change cues: n={r.n_changes} median {r.change_median_s * 1000:.1f} ms, "
        f"worst {r.change_worst_s * 1000:.1f} ms (target <= {TARGET_S * 1000:.0f} ms), "
        f"{r.interrupts} pre-empted advice"
    )
    print(f"  heads-up cues: worst {r.heads_up_worst_s * 1000:.1f} ms (waits while the previous cue plays)")
    for notice in r.notices:
        print(f"  note: {notice}")
    print(f"  {'PASS' if r.passed else 'FAIL'}")
    if args.write:
        _write_results(r, argv or [])
    return 0 if r.passed else 1


def _write_results(r: VoiceBenchResult, argv: list[str]) -> None:
    from bench.results import machine, now_utc, write_section

    cmd = " ".join(["python -m bench.voice_bench", *argv])
    rows = [
        "## Voice: cue latency at real time (issue 5)",
        "",
        f"- date: {now_utc()}; command: `{cmd}`; machine: {machine()}",
        f"- engine {r.engine}, player {r.player}, cues played by {', '.join(r.cue_backends)};"
        f" {r.n_phrases} phrases prerendered in {r.prerender_s:.2f} s",
        "- latency = when playback started minus the cue's planned time, wall clock, over one simulated session",
        "",
        "| metric | target | value |",
        "|---|---|---|",
        f"| change cues, median (n={r.n_changes}) | <= 300 ms | {r.change_median_s * 1000:.1f} ms |",
        f"| change cues, worst | <= 300 ms | {r.change_worst_s * 1000:.1f} ms {'pass' if r.passed else 'FAIL'} |",
        f"| heads-up cues, worst | - | {r.heads_up_worst_s * 1000:.1f} ms |",
        f"| advice pre-empted by a change | - | {r.interrupts} |",
    ]
    rows += [f"- note: {n}" for n in r.notices]
    write_section("voice_bench", "\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
