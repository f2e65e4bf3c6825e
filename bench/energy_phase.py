"""Does the phase of the trunk's energies tell walking from running on the real data? (issue 16, a measurement)

``python -m bench.energy_phase`` prints, per data set and bench alteration, the share of the labelled walking
and running seconds on each side of 0 of the feature below, overall and in the hard zone (cadence 120-160
steps/min, where the range/minimum run score fails on other people's sensors: FINDINGS 3).

Physics (Cavagna et al. 1977; McMahon et al. 1987): walking vaults the trunk over a stiff leg, its kinetic and
potential energies are OUT of phase (forward speed highest when the trunk is lowest, at double support); running,
grounded running without flight included, bounces on a spring leg and they are IN phase (speed lowest when the
trunk is lowest, at mid-stance). The feature, per second, over a ``WINDOW_S`` window centred on it (offline):

- gravity: the ``GRAVITY_S`` centred moving average of the acceleration; vertical = the acceleration along it
  minus its magnitude, horizontal = the rest (sensor axes);
- the step frequency f: coach's own ACF step period (:class:`coach.signal.cadence.AcfStepPeriod`) of the vertical;
- the Hann-weighted Fourier coefficients at f of the vertical (V) and of the three horizontal axes (H); the
  forward axis u is the horizontal principal direction at f (top eigenvector of Re(H H*)): the sway repeats once
  per stride, so at the step frequency the horizontal motion is mostly fore-aft;
- vertical position at f is -V / w^2, forward velocity A / (i w) with A = u . H; their correlation is
  proportional to Im(V conj(A)); ``cos_phase`` = Im(V conj(A)) / (|V| |A|) in -1..1 (+1: in phase, running;
  -1: out of phase, walking) for a known forward sign;
- u's sign is unknown for an unknown mounting. ``blind``: the braking at foot contact is sharp and the
  propulsion gradual, so the fore-aft acceleration (along u, high-passed) should be negatively skewed when u
  points forward in both gaits; the feature is ``cos_phase x -sign(skewness)``. ``learned``: the sensor does not
  turn on the trunk within a recording, so u is oriented by the recording's majority direction and its forward
  sign learned once from the recording's seconds below ``LEARN_BELOW_SPM`` (walking under any rule; the labels
  are not used; no sign, and every second counted wrong, with fewer than ``LEARN_MIN_S`` of them).
  ``skew agrees``: how often the skewness's sign matches the learned forward sign (does the skewness fix the
  sign?); ``walk one sign``: the share of a recording's walking seconds whose oriented phase has the sign of
  most of them (a diagnostic that uses the labels: is the walking phase stable at that placement?).

Labels: hexoskin chest hand labels (walk / run), the Oxford phone walks (walk), the Mobilise-D lower-back
reference walking bouts (walk); a second counts when its whole window lies inside one labelled span.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bench.datasets import (
    Recording,
    load_hexoskin,
    load_mobilise,
    load_oxford,
    resample_linear,
    resample_uniform,
)
from bench.variants import altered
from coach.signal.cadence import AcfStepPeriod

FloatArray = NDArray[np.float64]

#: analysis window (s), centred on each second
WINDOW_S = 4.0
#: gravity: centred moving average (s)
GRAVITY_S = 2.0
#: the hard zone of the run score (steps/min)
HARD_ZONE_SPM = (120.0, 160.0)
#: internal rate (Hz) for recordings that are not uniformly sampled (the phone)
UNIFORM_HZ = 100.0
#: the per-recording forward sign is learned from its seconds below this cadence (steps/min), when it has
#: at least ``LEARN_MIN_S`` of them
LEARN_BELOW_SPM = 115.0
LEARN_MIN_S = 20
#: the bench alterations measured here
VARIANTS = (
    "as recorded",
    "25 Hz",
    "50 Hz",
    "200 Hz",
    "rotated (3 mountings)",
    "grounded jog (0.4x, asymmetric)",
)


@dataclass
class Seconds:
    """Per labelled second: label, cadence (steps/min), blind and learned feature, skew agreement, walking sign
    consistency, centre time (s)."""

    label: list[str]
    cadence_spm: list[float]
    feature: list[float]
    learned: list[float]
    skew_agrees: list[bool]
    consistent: list[bool]
    t_s: list[float]

    @classmethod
    def empty(cls) -> Seconds:
        return cls([], [], [], [], [], [], [])

    def extend(self, other: Seconds) -> None:
        for name in ("label", "cadence_spm", "feature", "learned", "skew_agrees", "consistent", "t_s"):
            getattr(self, name).extend(getattr(other, name))


def _moving_average(x: FloatArray, n: int) -> FloatArray:
    pad = np.pad(x, ((n // 2, n - 1 - n // 2), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack((np.zeros((1, x.shape[1])), pad)), axis=0)
    return np.asarray((c[n:] - c[:-n]) / n, dtype=np.float64)


def _uniform(rec: Recording) -> tuple[FloatArray, float]:
    """(n, 3) acceleration on a uniform grid, and its rate."""
    dt = np.diff(rec.t_s)
    if dt.size and np.allclose(dt, 1.0 / rec.fs_hz, rtol=1e-3, atol=1e-6):
        return rec.xyz_g, rec.fs_hz
    _, x, fs = resample_linear(rec.t_s, rec.xyz_g, UNIFORM_HZ)
    return x, fs


def _spans(rec: Recording) -> list[tuple[float, float, str]]:
    if rec.dataset == "mobilise-d":
        return [(b.start_s, b.end_s, "walk") for b in rec.bouts]
    return [(s.start_s, s.end_s, s.label) for s in rec.segments if s.label in ("walk", "run")]


def measure(rec: Recording) -> Seconds:
    """The feature for every labelled walk/run second of one recording."""
    spans = _spans(rec)
    if not spans:
        return Seconds.empty()
    x, fs_f = _uniform(rec)
    if fs_f != round(fs_f):  # the ACF piece wants an integer rate
        x = resample_uniform(x, fs_f, float(round(fs_f)))
        fs_f = float(round(fs_f))
    fs = int(fs_f)
    t0 = float(rec.t_s[0])  # labels are on the recording's time base (every loader starts it at 0)
    g = _moving_average(x, max(1, round(GRAVITY_S * fs)))
    g_norm = np.linalg.norm(g, axis=1)
    gu = g / np.maximum(g_norm, 1e-6)[:, None]
    along = np.einsum("ij,ij->i", x, gu)
    vert = along - g_norm
    hor = x - along[:, None] * gu
    hor = hor - _moving_average(hor, max(1, round(1.0 * fs)))  # posture drift out (1 s)
    win = round(WINDOW_S * fs)
    half = win // 2
    centres = [
        c
        for start, end, _ in spans
        for c in np.arange(np.ceil(start + WINDOW_S / 2), np.floor(end - WINDOW_S / 2) + 1e-9, 1.0)
    ]
    labels = [
        lab
        for start, end, lab in spans
        for _ in np.arange(np.ceil(start + WINDOW_S / 2), np.floor(end - WINDOW_S / 2) + 1e-9, 1.0)
    ]
    idx = np.array([round((c - t0) * fs) for c in centres], dtype=np.int64)
    ok = (idx - half >= 0) & (idx - half + win <= x.shape[0])
    idx = idx[ok]
    times = np.asarray(centres, dtype=np.float64)[ok]
    labels = [lab for lab, k in zip(labels, ok, strict=True) if k]
    if idx.size == 0:
        return Seconds.empty()
    starts = idx - half
    v = np.lib.stride_tricks.sliding_window_view(vert, win)[starts]  # (m, win)
    h = np.lib.stride_tricks.sliding_window_view(hor, win, axis=0)[starts]  # (m, 3, win)
    v = v - v.mean(axis=1, keepdims=True)
    # step period: coach's ACF piece on the window's normalised ACF
    step = AcfStepPeriod()
    n_lags = min(step.lags_needed(fs), win - fs)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    fv = np.fft.rfft(v, nfft, axis=1)
    r = np.fft.irfft(fv.real**2 + fv.imag**2, nfft, axis=1)[:, : n_lags + 1]
    r = r / (win - np.arange(n_lags + 1))[None, :]
    acf = r / np.maximum(r[:, :1], 1e-12)
    period = step.estimate(acf, fs).period_samples_  # samples
    found = np.isfinite(period) & np.isfinite(v).all(axis=1) & np.isfinite(h).all(axis=(1, 2))
    v, h, period = v[found], h[found], period[found]
    labels = [lab for lab, k in zip(labels, found, strict=True) if k]
    times = times[found]
    omega = 2.0 * np.pi / period  # rad per sample
    k = np.arange(win)
    w = np.hanning(win)
    e = w[None, :] * np.exp(-1j * omega[:, None] * k[None, :])  # (m, win)
    V = np.einsum("mk,mk->m", v, e)
    H = np.einsum("mak,mk->ma", h, e)  # (m, 3)
    M = np.real(H[:, :, None] * np.conj(H[:, None, :]))
    _, vecs = np.linalg.eigh(M)
    u = vecs[:, :, -1]  # (m, 3) top eigenvector
    A = np.einsum("ma,ma->m", H, u)
    cos_phase = np.imag(V * np.conj(A)) / np.maximum(np.abs(V) * np.abs(A), 1e-12)
    fwd = np.einsum("mak,ma->mk", h, u)
    fwd = fwd - fwd.mean(axis=1, keepdims=True)
    skew = (fwd**3).mean(axis=1) / np.maximum(fwd.std(axis=1), 1e-9) ** 3
    blind_sign = -np.sign(skew)
    # the recording's majority orientation of u (sensor axes do not move on the trunk within a recording) ...
    ref = np.sum(u * np.sign(u[:, [int(np.argmax(np.abs(u).mean(axis=0)))]]), axis=0)
    oriented = cos_phase * np.sign(u @ ref)
    # ... whose forward sign is learned from the slow seconds (walking under any rule; labels not used)
    cadence = 60.0 * fs / period
    slow = cadence < LEARN_BELOW_SPM
    learned_sign = -np.sign(np.median(oriented[slow])) if slow.sum() >= LEARN_MIN_S else np.nan
    forward_sign = np.sign(u @ ref) * learned_sign
    # diagnostic (uses the labels): does the phase keep one sign through the recording's walking?
    walking = np.array(labels) == "walk"
    majority = np.sign(np.median(oriented[walking])) if walking.any() else 0.0
    return Seconds(
        label=labels,
        cadence_spm=list(cadence),
        feature=list(cos_phase * blind_sign),
        learned=list(oriented * learned_sign),
        skew_agrees=list(blind_sign == forward_sign),
        consistent=list(np.sign(oriented) == majority),
        t_s=list(times),
    )


def _share(values: FloatArray, positive: bool) -> str:
    if values.size == 0:
        return "   -  "
    return f"{100.0 * np.mean(values > 0 if positive else values <= 0):5.1f}%"


def report(name: str, s: Seconds) -> str:
    lab = np.array(s.label)
    cad = np.array(s.cadence_spm)
    agree = np.array(s.skew_agrees, dtype=float)
    consistent = np.array(s.consistent, dtype=float)
    hard = (cad >= HARD_ZONE_SPM[0]) & (cad <= HARD_ZONE_SPM[1])
    rows = []
    for scope, mask in (("all", np.ones(lab.size, bool)), ("hard", hard)):
        walk, run = (lab == "walk") & mask, (lab == "run") & mask
        cells = []
        for col in ("feature", "learned"):
            f = np.array(getattr(s, col))
            cells.append(f"{_share(f[walk], False)} {_share(f[run], True)}")
        rows.append(
            f"{name:<42} {scope:<4} {int(walk.sum()):5d} {int(run.sum()):4d}   blind {cells[0]}"
            f"   learned {cells[1]}   skew agrees {_share(agree[walk], True)} {_share(agree[run], True)}"
            f"   walk one sign {_share(consistent[walk], True)}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.energy_phase", description=__doc__.splitlines()[0])
    p.add_argument("--variants", default=";".join(VARIANTS), help="bench alterations, separated by ;")
    p.add_argument("--datasets", default="hexoskin,oxford,mobilise-d", help="comma-separated")
    args = p.parse_args(argv)
    loaders = {"hexoskin": load_hexoskin, "oxford": load_oxford, "mobilise-d": load_mobilise}
    data = {name: loaders[name]() for name in args.datasets.split(",")}
    print("share of labelled seconds on the right side (walk: feature <= 0, run: feature > 0)")
    print(
        f"{'data set [alteration]':<42} {'span':<4} {'walk':>5} {'run':>4}   blind  walk    run"
        "    learned  walk    run   skew agrees walk  run   walk one sign"
    )
    for variant in args.variants.split(";"):
        for name, recs in data.items():
            total = Seconds.empty()
            for rec in altered(recs, variant):
                total.extend(measure(rec))
            print(report(f"{name} [{variant}]", total))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
