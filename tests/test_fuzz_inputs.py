"""Fuzzing the file readers a user hands files to (issue 7): random and mutated input raises only the documented
errors, never anything else.

- programme loader (coach/plan/programme.py): random text, mutated real TOML and well-formed TOML with random values ->
  only :class:`coach.errors.ProgrammeError`;
- recording loaders (coach/signal/io.py ``load_recording``: csv, Polar Sensor Logger csv, FIT, capture) and the
  importer (coach/store/importer.py ``import_recording``: FIT, Polar) on random bytes and mutated real files -> only
  :class:`coach.errors.CoachError` (``InputError``).

The capture reader and the GATT/PMD decoders have their own fuzz tests (tests/test_capture.py,
tests/test_codecs_*.py). Budgets are fixed and ``derandomize=True``, so CI runs the same examples every time.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.errors import CoachError, ProgrammeError
from tests.realdata import FIT_DIR

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
BACK_PAIN = (REPO / "coach" / "data" / "programmes" / "back-pain.toml").read_text(encoding="utf-8")

# fitdecode warns about every oddity of a corrupt file; the test is about what is raised.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ_SLOW = settings(FUZZ, max_examples=40)

# -------------------------------------------------------------------------------------------- mutations

mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]),
        st.integers(min_value=0, max_value=10**9),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, pos, blob in ops:
        if not buf:
            buf.extend(blob)
            continue
        i = pos % len(buf)
        if op == "flip":
            buf[i] ^= blob[0] or 0xFF
        elif op == "insert":
            buf[i:i] = blob
        elif op == "delete":
            del buf[i : i + len(blob)]
        elif op == "truncate":
            del buf[i:]
        else:  # duplicate a chunk (repeated records, repeated headers)
            buf[i:i] = buf[i : i + 64]
    return bytes(buf)


# -------------------------------------------------------------------------------------------- programmes


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"


scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["5m", "1m30s", "0", "-1m", "90s", "1:30", "4h1s", "1e9m", "m", "", "run", "warm-up"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS := [
        "walk", "run", "repeat", "label", "title", "session", "sessions", "targets", "notes", "hr_ceiling_bpm",
        "cadence_rise_pct", "cadence_baseline_spm", "x",
    ]), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@st.composite
def structured_programmes(draw: st.DrawFn) -> str:
    """Well-formed TOML shaped like a programme, with random values in random places."""
    top = {
        "format": draw(st.one_of(st.just(1), scalars)),
        "name": draw(st.one_of(st.just("fuzz"), scalars)),
        "title": draw(st.one_of(st.just("Fuzz"), scalars)),
    }
    drop = draw(st.sets(st.sampled_from(sorted(top))))
    lines = [f"{k} = {_toml_value(v)}" for k, v in top.items() if k not in drop]
    if draw(st.booleans()):
        lines.append(f"targets = {_toml_value(draw(values))}")
    for _ in range(draw(st.integers(0, 3))):
        lines.append("[[stages]]")
        lines.append(f"title = {_toml_value(draw(st.one_of(st.just('s'), scalars)))}")
        steps = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {"run": scalars, "walk": scalars},
                        optional={"repeat": scalars, "label": scalars},
                    ),
                    values,
                ),
                max_size=4,
            )
        )
        lines.append(f"session = {_toml_value(steps)}")
        for key in draw(st.sets(st.sampled_from(["sessions", "targets", "notes", "extra"]))):
            lines.append(f"{key} = {_toml_value(draw(values))}")
    return "\n".join(lines) + "\n"


def _parse_only_programme_error(text: str) -> None:
    from coach.plan.programme import parse_programme

    try:
        programme = parse_programme(text, "fuzz.toml")
    except ProgrammeError as exc:
        assert str(exc).startswith("fuzz.toml"), str(exc)
        assert "\n" not in str(exc).strip() or "TOML" in str(exc)
    else:  # a valid programme gives plans with positive, finite durations
        for stage in range(1, len(programme.stages) + 1):
            plan = programme.plan(stage)
            assert all(0 < i.duration_s < math.inf for i in plan.intervals)


@FUZZ
@given(st.text(max_size=300))
def test_programme_random_text(text: str) -> None:
    _parse_only_programme_error(text)


@FUZZ
@given(mutations)
def test_programme_mutated_builtin(ops: list[tuple[str, int, bytes]]) -> None:
    raw = mutate(BACK_PAIN.encode("utf-8"), ops)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # load_file turns this into "not a UTF-8 text file" (tests/test_bad_input.py)
    _parse_only_programme_error(text)


@FUZZ
@given(structured_programmes())
def test_programme_structured_random_values(text: str) -> None:
    _parse_only_programme_error(text)


@settings(FUZZ, max_examples=60)
@given(st.binary(max_size=300))
def test_programme_file_random_bytes(tmp_path: Path, data: bytes) -> None:
    from coach.plan.programme import load_file

    path = tmp_path / "p.toml"
    path.write_bytes(data)
    with pytest.raises(ProgrammeError):
        load_file(path)
        raise ProgrammeError("parsed")  # random bytes that happen to be a valid programme: still fine


# -------------------------------------------------------------------------------------------- recordings


@functools.cache
def real_files() -> dict[str, bytes]:
    """Small real files of every format a user can give (a few seconds of the chest fixture, a real FIT)."""
    from coach.signal.io import load_recording

    rec = load_recording(CHEST)
    assert rec.t_s is not None and rec.xyz_g is not None
    keep = rec.t_s < rec.t_s[0] + 4.0
    t = rec.t_s[keep] - rec.t_s[0]
    xyz = rec.xyz_g[keep]
    csv = "t,x,y,z\n" + "".join(
        f"{a:.4f},{x:.4f},{y:.4f},{z:.4f}\n" for a, (x, y, z) in zip(t, xyz, strict=True)
    )
    polar = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    base_ns = 767_000_000_000_000_000
    for a, (x, y, z) in zip(t, xyz * 1000, strict=True):
        sec = 10 + a
        polar.append(
            f"2024-05-04T09:15:{sec:06.3f};{base_ns + int(a * 1e9)};{round(x)};{round(y)};{round(z)}"
        )
    capture_lines = CHEST.read_bytes().split(b"\n")[:40]
    files = {
        "rec.csv": csv.encode(),
        "Polar_H10_ABCD1234_20240504_091500_ACC.txt": ("\n".join(polar) + "\n").encode(),
        "rec.jsonl": b"\n".join(capture_lines) + b"\n",
        "walk.fit": (FIT_DIR / "garmin-fenix-5-walk.fit").read_bytes(),
    }
    return files


def _load_only_input_error(path: Path) -> None:
    from coach.signal.io import load_recording

    try:
        load_recording(path)
    except CoachError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        assert "\n" not in str(exc).strip()


def test_real_files_load(tmp_path: Path) -> None:
    """The seeds of the mutations are valid (otherwise the fuzzing would only exercise the first check)."""
    from coach.signal.io import load_recording

    for name, data in real_files().items():
        path = tmp_path / name
        path.write_bytes(data)
        load_recording(path)


@FUZZ
@given(data=st.data())
def test_recording_mutated_real_files(tmp_path: Path, data: st.DataObject) -> None:
    files = real_files()
    name = data.draw(st.sampled_from(sorted(files)), label="file")
    ops = data.draw(mutations, label="mutations")
    path = tmp_path / name
    path.write_bytes(mutate(files[name], ops))
    _load_only_input_error(path)


@FUZZ
@given(
    name=st.sampled_from(["r.csv", "r.fit", "r.jsonl", "Polar_H10_X_ACC.txt", "r.bin"]),
    blob=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.lists(st.text(alphabet="0123456789.,;-eE+ tnaxyz\r", max_size=40), max_size=12).map(
            lambda rows: ("t,x,y,z\n" + "\n".join(rows)).encode()
        ),
        st.lists(st.text(alphabet="0123456789.;-: T", max_size=50), max_size=12).map(
            lambda rows: (
                "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n" + "\n".join(rows)
            ).encode()
        ),
    ),
)
def test_recording_random_bytes(tmp_path: Path, name: str, blob: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(blob)
    _load_only_input_error(path)


# -------------------------------------------------------------------------------------------- importer


@FUZZ_SLOW
@given(data=st.data())
def test_import_mutated_real_files(tmp_path: Path, data: st.DataObject) -> None:
    from coach.store.importer import import_recording

    files = real_files()
    choices = sorted(n for n in files if n.endswith((".fit", "_ACC.txt")))
    name = data.draw(st.sampled_from(choices), label="file")
    ops = data.draw(mutations, label="mutations")
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / name
    path.write_bytes(mutate(files[name], ops))
    try:
        import_recording(path, folder / "data", force=True)
    except CoachError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
