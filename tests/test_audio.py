"""coach.voice.audio: WAV checks, chime, players (exit status checked), and the session audio tape."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.voice.audio import (
    AudioTape,
    NullPlayer,
    ProcessPlayer,
    WavError,
    check_wav,
    detect_player,
    read_wav,
    resample,
    synth_chime,
    write_wav,
)

SR = 22050


def tone(duration_s: float, freq: float = 440.0, level: float = 0.4, sr: int = SR) -> np.ndarray:
    t = np.arange(round(duration_s * sr)) / sr
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def windowed_rms(samples: np.ndarray, sr: int, start_s: float, end_s: float) -> float:
    seg = samples[round(start_s * sr) : round(end_s * sr)].astype(np.float64)
    return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0


# ---------------------------------------------------------------- check_wav


def test_check_wav_accepts_speech_like_audio(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    write_wav(p, tone(0.5), SR)
    info = check_wav(p)
    assert info.sample_rate_hz == SR
    assert info.n_frames == round(0.5 * SR)
    assert info.duration_s == pytest.approx(0.5)
    assert info.rms == pytest.approx(0.4 / np.sqrt(2), rel=0.02)


def _cut(path: Path, samples: np.ndarray, *, keep_frames: int) -> None:
    """A WAV whose write was cut short: the header promises every frame, the file holds ``keep_frames``."""
    write_wav(path, samples, SR)
    with wave.open(str(path), "rb") as wf:
        header_bytes = path.stat().st_size - wf.getnframes() * wf.getsampwidth()
    with path.open("r+b") as fh:
        fh.truncate(header_bytes + keep_frames * 2)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "missing"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"ID3\x03" + b"\x00" * 100), "not a RIFF/WAVE"),
        (lambda p: write_wav(p, np.zeros(0, np.float32), SR), "no audio frames"),
        (lambda p: write_wav(p, np.zeros(SR, np.float32), SR), "silent"),
        (lambda p: write_wav(p, np.full(SR, 1e-4, np.float32), SR), "silent"),
        (lambda p: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk"), "unreadable WAV"),
        (
            lambda p: _cut(p, tone(0.5), keep_frames=SR // 4),
            f"truncated ({SR // 4} of {round(0.5 * SR)} frames)",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "not-riff",
        "zero-frames",
        "zeros",
        "near-silence",
        "truncated-header",
        "truncated-data",
    ],
)
def test_check_wav_rejects_what_an_engine_can_leave_behind(tmp_path: Path, make: object, reason: str) -> None:
    p = tmp_path / "bad.wav"
    make(p)  # type: ignore[operator]
    with pytest.raises(WavError, match=re.escape(reason)) as info:
        check_wav(p)
    assert info.value.path == p
    assert isinstance(info.value, ValueError)


def test_read_wav_mixes_stereo_and_8_bit(tmp_path: Path) -> None:
    p = tmp_path / "s.wav"
    with wave.open(str(p), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(1)
        wf.setframerate(8000)
        wf.writeframes(bytes([128 + 64, 128 - 64] * 10 + [255, 255] * 10))
    samples, rate = read_wav(p)
    assert rate == 8000
    assert samples.shape == (20,)
    assert np.allclose(samples[:10], 0.0)
    assert np.allclose(samples[10:], 127 / 128)


def test_write_wav_is_atomic_and_round_trips(tmp_path: Path) -> None:
    p = tmp_path / "r.wav"
    x = tone(0.2)
    write_wav(p, x, SR)
    y, rate = read_wav(p)
    assert rate == SR
    assert np.max(np.abs(x - y)) < 1e-4
    assert [f.name for f in tmp_path.iterdir()] == ["r.wav"]


def test_resample_keeps_duration_and_pitch() -> None:
    x = tone(1.0, freq=300.0, sr=16000)
    y = resample(x, 16000, SR)
    assert y.size == SR
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * SR / y.size == pytest.approx(300.0, abs=2.0)


def test_chime_is_audible_and_short() -> None:
    x = synth_chime()
    assert 0.3 < x.size / SR < 1.0
    assert np.max(np.abs(x)) == pytest.approx(0.5, abs=1e-3)
    assert float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) > 0.03


# ---------------------------------------------------------------- players

FAIL_PLAYER = (
    sys.executable,
    "-c",
    "import sys; sys.stderr.write('no default audio device\\n'); sys.exit(1)",
)
OK_PLAYER = (sys.executable, "-c", "import sys, wave; wave.open(sys.argv[1]).getnframes()")


async def test_process_player_reports_exit_status_and_stderr(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    write_wav(p, tone(0.1), SR)
    ok = await (await ProcessPlayer("ok", [*OK_PLAYER, "{path}"]).start(p)).wait()
    assert ok == 0
    playback = await ProcessPlayer("bad", [*FAIL_PLAYER, "{path}"]).start(p)
    assert await playback.wait() == 1
    assert playback.error == "bad exited 1: no default audio device"


async def test_process_player_stop_is_not_a_failure(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    write_wav(p, tone(0.1), SR)
    playback = await ProcessPlayer(
        "slow", [sys.executable, "-c", "import time; time.sleep(30)", "{path}"]
    ).start(p)
    playback.stop()
    assert await playback.wait() == 0
    assert playback.error == ""


async def test_detect_player_skips_missing_and_failing_players(tmp_path: Path) -> None:
    probe = tmp_path / "probe.wav"
    write_wav(probe, np.zeros(100, np.float32), SR)
    candidates = [
        ("ghost", ("/nonexistent/ghost-player", "{path}")),
        ("broken", (*FAIL_PLAYER, "{path}")),
        ("works", (*OK_PLAYER, "{path}")),
    ]
    player, reasons = await detect_player(probe, candidates=candidates)
    assert player is not None and player.name == "works"
    assert reasons == ["ghost: not installed", "broken exited 1: no default audio device"]
    none, reasons = await detect_player(probe, candidates=candidates[:2])
    assert none is None and len(reasons) == 2


async def test_detect_player_on_this_machine_checks_exit_status(tmp_path: Path) -> None:
    """Without a sound card sox's ``play`` exits 1: it must be rejected, not trusted like pyttsx3 trusts aplay."""
    probe = tmp_path / "probe.wav"
    write_wav(probe, np.zeros(100, np.float32), SR)
    player, reasons = await detect_player(probe)
    has_device = Path("/dev/snd").exists() or "PULSE_SERVER" in os.environ or sys.platform == "darwin"
    if not has_device:
        assert player is None
        assert any(r.startswith("play") for r in reasons) or shutil.which("play") is None


async def test_null_player_paces_by_wav_duration(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    write_wav(p, tone(0.05), SR)
    player = NullPlayer(pace=True)
    playback = await player.start(p)
    assert await playback.wait() == 0
    assert player.started == [p]


# ---------------------------------------------------------------- tape


def test_tape_has_speech_at_every_cue_and_silence_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "tape.wav"
    tape = AudioTape(path)
    cue_times = [1.0, 4.25, 9.5]
    cue = tone(0.6)
    for t in cue_times:
        tape.add(t, cue, SR)
    tape.close(end_t_s=12.0)

    samples, sr = read_wav(path)
    assert sr == SR
    assert samples.size == 12 * SR
    for t in cue_times:
        assert windowed_rms(samples, sr, t, t + 0.6) > 0.2, f"no speech at {t}"
    gaps = [(0.0, 1.0), (1.6, 4.25), (4.85, 9.5), (10.1, 12.0)]
    for a, b in gaps:
        assert np.max(np.abs(samples[round(a * sr) : round(b * sr)])) == 0.0, f"sound in gap {a}-{b}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tape_resamples_and_mixes_overlapping_cues(tmp_path: Path) -> None:
    path = tmp_path / "tape.wav"
    tape = AudioTape(path)
    tape.add(0.5, tone(1.0, level=0.2, sr=16000), 16000)
    tape.add(1.0, tone(1.0, freq=660.0, level=0.2), SR)  # overlaps the first by 0.5 s
    tape.close()
    samples, _ = read_wav(path)
    assert samples.size == 2 * SR
    alone = windowed_rms(samples, SR, 0.55, 0.95)
    both = windowed_rms(samples, SR, 1.05, 1.45)
    assert alone == pytest.approx(0.2 / np.sqrt(2), rel=0.05)
    assert both == pytest.approx(0.2, rel=0.1)  # two uncorrelated tones of RMS 0.141 each


def test_tape_is_readable_before_close(tmp_path: Path) -> None:
    """A killed session leaves a valid WAV up to its last cue (the header is rewritten after each cue)."""
    path = tmp_path / "tape.wav"
    tape = AudioTape(path)
    tape.add(2.0, tone(0.5), SR)
    samples, _ = read_wav(path)
    assert samples.size == round(2.5 * SR)
    assert windowed_rms(samples, SR, 2.0, 2.5) > 0.2
    tape.add(3.0, tone(0.5), SR)
    assert read_wav(path)[0].size == round(3.5 * SR)
    tape.close(5.0)
    with pytest.raises(ValueError, match="closed"):
        tape.add(6.0, tone(0.1), SR)


def test_tape_killed_process_leaves_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "tape.wav"
    code = (
        "import os, numpy as np\n"
        "from coach.voice.audio import AudioTape\n"
        f"tape = AudioTape({str(path)!r})\n"
        "tape.add(1.0, (0.3*np.sin(np.arange(11025)*0.1)).astype(np.float32), 22050)\n"
        "os._exit(9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert proc.returncode == 9
    info = check_wav(path)
    assert info.duration_s == pytest.approx(1.5)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
def test_tape_cross_checked_with_sox_stat(tmp_path: Path) -> None:
    path = tmp_path / "tape.wav"
    tape = AudioTape(path)
    tape.add(1.0, tone(0.5, level=0.5), SR)
    tape.close(3.0)
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, timeout=30)
    stats = dict(
        (k.strip(), v.strip()) for k, v in (ln.split(":", 1) for ln in out.stderr.splitlines() if ":" in ln)
    )
    assert float(stats["Length (seconds)"]) == pytest.approx(3.0, abs=0.001)
    assert float(stats["Maximum amplitude"]) == pytest.approx(0.5, abs=0.01)
    samples, _ = read_wav(path)
    ours = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert float(stats["RMS     amplitude"]) == pytest.approx(ours, rel=0.01)
