"""Issue 16 measurement: the after-run cadence of clear-rhythm seconds read from a centred spectral peak.

The question (bench/RESULTS.md, "Issue 16"): on the chest the centred FFT baseline (``fft``, a 6-s Hann window
centred on each second) beats the after-run estimator on the walking per-10-s-window P90 and the per-bout median.
The after-run estimator takes, where the rhythm is clear and the strides confirm it, the ACF cadence of the live hop
whose 5-s window is centred on the second (lag interpolated on the ACF). This script tries the generic fix of the
brief: for those seconds only (the ACF path of ``AfterRunEstimator._cadence``), the highest peak of the
Hann-windowed spectrum of ``--window-s`` of the zero-phase vertical signal that
:class:`coach.signal.offline_steps.StepRecovery` rebuilds, centred on the second, within ``--band`` of the ACF
cadence (the ACF already chose step vs stride, so no harmonic can be taken), refined by a parabola through the log
magnitudes of the peak bin and its neighbours; the signal decimated to 20 Hz and zero-padded to 2048 points (the
precision does not matter: 50 Hz and 8192 points give the same scores within 0.004 steps/min). ``--all`` applies it
to every gait second (the strides path too), with the after-run cadence as the reference.

The variant is a subclass of :class:`coach.signal.offline.AfterRunEstimator` built here (no change to coach): its
ACF-path seconds are those whose value is exactly one of the stretch's ACF cadences (the strides path averages step
events and never lands on one). Run from the repository root::

    PYTHONPATH=$PWD python -m bench.centred_cadence [--window-s 6] [--band 0.1] [--all] [--variants]

It prints the cadence rows of the chest, Oxford and Mobilise-D data sets for ``coach`` (today's after-run),
``coach_centred`` (the variant) and ``fft``; ``--variants`` adds the chest rows on the robustness alterations of
:mod:`bench.variants` (coach and the variant only). Findings: docs/signal.md, "After the run", step 3.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench import algorithms as A
from bench import signal_bench as sb
from bench.datasets import load_hexoskin, load_mobilise, load_oxford

FloatArray = np.ndarray


class CentredSpectrum:
    """The spectral cadence of windows centred on given times, near reference cadences (module docstring)."""

    def __init__(
        self,
        *,
        window_s: float = 6.0,
        band_fraction: float = 0.1,
        decimate_hz: float = 20.0,
        nfft: int = 2048,
    ) -> None:
        self.window_s = window_s
        self.band_fraction = band_fraction
        self.decimate_hz = decimate_hz
        self.nfft = nfft

    def cadence(
        self, t_grid: FloatArray, y: FloatArray, valid: np.ndarray, centres_s: FloatArray, ref_spm: FloatArray
    ) -> FloatArray:
        """Steps/min for each ``centres_s`` (``t_grid``'s clock, a uniform grid); NaN where the window is not
        wholly valid signal or the band's highest bin is on its edge (no peak near the reference)."""
        centres = np.asarray(centres_s, dtype=np.float64)
        ref = np.asarray(ref_spm, dtype=np.float64)
        out = np.full(centres.size, np.nan)
        if centres.size == 0 or t_grid.size < 2:
            return out
        fs = 1.0 / float(t_grid[1] - t_grid[0])
        step = max(1, round(fs / self.decimate_hz))
        yd, vd, fsd = y[::step], valid[::step], fs / step
        n = round(self.window_s * fsd)
        if yd.size < n or n < 4:
            return out
        start = np.round((centres - self.window_s / 2.0 - float(t_grid[0])) * fsd).astype(np.int64)
        rows = np.flatnonzero((start >= 0) & (start + n <= yd.size) & np.isfinite(ref))
        if rows.size == 0:
            return out
        idx = start[rows, None] + np.arange(n)[None, :]
        ok = vd[idx].all(axis=1)
        rows, idx = rows[ok], idx[ok]
        seg = yd[idx]
        seg = seg - seg.mean(axis=1, keepdims=True)
        spec = np.abs(np.fft.rfft(seg * np.hanning(n)[None, :], self.nfft, axis=1))
        bin_spm = 60.0 * fsd / self.nfft
        lo = np.clip(
            np.ceil(ref[rows] * (1.0 - self.band_fraction) / bin_spm).astype(np.int64), 1, spec.shape[1] - 2
        )
        hi = np.floor(ref[rows] * (1.0 + self.band_fraction) / bin_spm).astype(np.int64)
        hi = np.clip(hi, lo, spec.shape[1] - 2)
        k = np.arange(spec.shape[1])[None, :]
        pk = np.argmax(np.where((k >= lo[:, None]) & (k <= hi[:, None]), spec, -np.inf), axis=1)
        r = np.arange(rows.size)
        a, b, c = (np.log(np.maximum(spec[r, pk + d], 1e-300)) for d in (-1, 0, 1))
        den = a - 2.0 * b + c
        shift = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
        val = (pk + np.clip(shift, -0.5, 0.5)) * bin_spm
        out[rows] = np.where((pk > lo) & (pk < hi), val, math.nan)
        return out


def centred_runner(spectrum: CentredSpectrum, every_second: bool) -> A.Runner:
    """A bench runner: ``GaitAnalysis`` whose after-run estimator reads its ACF-path seconds (or all of them)
    from ``spectrum``."""
    from coach.signal import analysis
    from coach.signal.offline import AfterRunEstimator

    class Centred(AfterRunEstimator):
        def refine(self, seconds: Any, gate: Any, foot_pod_blend: Any = None, **kw: Any) -> Any:
            self._signal, self._recovery = kw.get("signal"), kw.get("recovery")
            self._t0 = seconds[0].t if seconds else 0.0
            return super().refine(seconds, gate, foot_pod_blend, **kw)

        def _cadence(self, acf: Any, conf: Any, rhythm: Any, steps: Any, a: int, b: int, pod: Any) -> Any:
            out = super()._cadence(acf, conf, rhythm, steps, a, b, pod)
            if self._signal is None or self._recovery is None:
                return out
            near = acf[max(0, a - 5) : b + 5]
            sel = np.isfinite(out) if every_second else np.isin(out, near[np.isfinite(near)])
            sec = np.flatnonzero(sel)
            if sec.size == 0:
                return out
            t_s = np.asarray(self._signal[0], dtype=np.float64) - self._t0
            rec = self._recovery
            pad = spectrum.window_s / 2.0 + rec.gravity_window_s + rec.lowpass_length_s
            lo, hi = np.searchsorted(t_s, [a - pad, b + pad])
            if hi - lo < 3:
                return out
            tg, y, valid = rec.vertical(t_s[lo:hi], np.asarray(self._signal[1], dtype=np.float64)[lo:hi])
            c = spectrum.cadence(tg, y, valid, a + sec + 0.5, out[sec])
            good = np.isfinite(c)
            out = out.copy()
            out[sec[good]] = c[good]
            return out

    def run(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[A.Timeline, FloatArray]:
        saved = AfterRunEstimator  # the class coach.signal.analysis uses
        analysis.AfterRunEstimator = Centred  # type: ignore[attr-defined]
        try:
            ga = analysis.GaitAnalysis(**A.COACH_PARAMS).analyze(t_s, xyz_g)
        finally:
            analysis.AfterRunEstimator = saved  # type: ignore[attr-defined]
        return list(ga.timeline_), np.asarray(ga.steps_, dtype=float)

    return run


def _print(rep: sb.DatasetReport, algos: Sequence[str], label: str = "") -> None:
    for key, row in rep.keyed.items():
        if not any(w in row.metric for w in ("cadence abs error", "regular")):
            continue
        vals = " ".join(
            f"{a}={row.values[a]:.3f}" if row.values.get(a) is not None else f"{a}=-" for a in algos
        )
        print(f"{label or rep.name:28s} {key:9s} {row.metric[:62]:62s} {vals}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--window-s", type=float, default=6.0)
    p.add_argument("--band", type=float, default=0.1)
    p.add_argument("--all", action="store_true", help="every gait second, not only the ACF path")
    p.add_argument("--variants", action="store_true", help="also the chest robustness alterations")
    args = p.parse_args(argv)
    A.ALGORITHMS["coach_centred"] = centred_runner(
        CentredSpectrum(window_s=args.window_s, band_fraction=args.band), args.all
    )
    A.TITLES["coach_centred"] = "coach after-run, centred spectrum"
    algos = ["coach", "coach_centred", "fft"]
    hex_recs = load_hexoskin()
    _print(sb.evaluate_hexoskin(hex_recs, algos), algos)
    _print(sb.evaluate_oxford(load_oxford(), algos), algos)
    _print(sb.evaluate_mobilise([r for r in load_mobilise() if r.bouts], algos), algos)
    if args.variants:
        from bench.variants import VARIANTS, altered

        for v in [v for v in VARIANTS if v != "as recorded"]:
            _print(sb.evaluate_hexoskin(altered(hex_recs, v), algos[:2]), algos[:2], f"hexoskin {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
