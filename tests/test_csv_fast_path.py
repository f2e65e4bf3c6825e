"""The plain-decimal fast path of the csv loader gives the general parser's doubles bit for bit, hands every other
layout to it, and leaves its error messages unchanged (coach/signal/io.py, :func:`parse_plain_decimal`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.errors import InputError
from coach.signal import io
from coach.signal.io import load_recording, parse_plain_decimal

PATH = Path("x.csv")


def general(flat: str, ncols: int) -> np.ndarray:
    """The general parser alone (numpy's float reader, then the line-by-line error finder)."""
    return io._parse_numbers(PATH, flat, ncols, ",", 2)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool((a.view(np.int64) == b.view(np.int64)).all())


def fast_equals_general(flat: str, ncols: int) -> np.ndarray:
    fast = parse_plain_decimal(flat, ",", ncols)
    assert fast is not None, "the plain layout must take the fast path"
    ref = general(flat, ncols)
    assert same_bits(fast, ref)
    # and both are what Python's own float() reads
    by_float = np.array([[float(v) for v in line.split(",")] for line in flat.split("\n")])
    assert same_bits(fast, by_float)
    return fast


LAYOUTS = {
    "bench %.4f": ["0.0000,0.0469,-0.2775,-1.0241", "3600.0100,1.5000,-0.0001,0.9999"],
    "integers (mg)": ["0,12,-980,3", "1,-7,1001,0"],
    "no leading or trailing digits": [".5,-.25,5.,-0", "-0.0,0.,10,.000001"],
    "leading zeros": ["007.50,-000.1,0000,00.00"],
    "15 digits, 8 each side": ["12345678.1234567,-1234567.12345678,99999999.9999999,0.00000001"],
    "15 digits on one side": ["123456789012345,-.123456789012345,999999999999999,-0.00000000000001"],
    "long time stamps": ["1718053200.123,0.1,0.2,0.3", "1718053200.133,0.1,0.2,0.3"],
    "mixed precision": ["2.5,3.25,-4.125,5.0625", "0.1,0.2,0.3,0.7"],
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_plain_layouts_match_the_general_parser_bit_for_bit(name: str) -> None:
    fast_equals_general("\n".join(LAYOUTS[name]), 4)


def test_negative_zero_keeps_its_sign() -> None:
    out = fast_equals_general("-0,-0.0,-.0,0", 4)
    assert list(np.signbit(out[0])) == [True, True, True, False]


def test_extra_columns_and_a_single_column() -> None:
    fast_equals_general("0.0,1,2,3,4.5\n0.01,1,2,3,-4.5", 5)
    fast_equals_general("1.5\n-2.25\n3", 1)


def test_chunks_cut_at_line_ends_give_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    data = rng.normal(0.0, 3.0, size=(3000, 4))
    flat = "\n".join(",".join(f"{v:.{rng.integers(0, 8)}f}" for v in row) for row in data)
    whole = fast_equals_general(flat, 4)
    for size in (1, 17, 1000, 4096):
        monkeypatch.setattr(io, "PLAIN_CHUNK_BYTES", size)
        assert same_bits(fast_equals_general(flat, 4), whole)


@pytest.mark.parametrize(
    "flat",
    [
        "1e3,1,2,3",  # exponent
        "1E-3,1,2,3",
        "+1,1,2,3",  # plus sign
        " 1,1,2,3",  # a space
        "1,1,2,nan",
        "1,1,2,inf",
        "12345678.12345678,1,2,3",  # 16 in all
        "1234567890123456,1,2,3",
        "1,2,3,4\u00a0",  # not ASCII
        "0,1,2,3\n0.01,1,2,3,",  # a trailing separator (numpy's reader takes it)
    ],
)
def test_other_number_syntax_goes_to_the_general_parser(flat: str) -> None:
    assert parse_plain_decimal(flat, ",", 4) is None
    try:
        ref = general(flat, 4)
    except InputError:
        return
    assert same_bits(io._parse_numeric_block(PATH, flat, 4, ",", 2), ref)


BAD = [
    ("0,1,2,3\n0.01,1,2", "x.csv:3: expected 4 values, found 3"),
    ("0,1,2,3\n0.01,1,2,3,4", "x.csv:3: expected 4 values, found 5"),
    ("0,1,2,3\n\n0.02,1,2,3", "x.csv:3: expected 4 values, found 1"),
    ("0,1,2,3\n0.01,1,,3", "x.csv:3: not a number: ''"),
    ("0,1.2.3,2,3", "x.csv:2: not a number: '1.2.3'"),
    ("0,--1,2,3", "x.csv:2: not a number: '--1'"),
    ("0,1-2,2,3", "x.csv:2: not a number: '1-2'"),
    ("0,-,2,3", "x.csv:2: not a number: '-'"),
    ("0,.,2,3", "x.csv:2: not a number: '.'"),
    ("0,1,2,abc", "x.csv:2: not a number: 'abc'"),
    ("0,1,2,nan", "x.csv:2: not a finite number: 'nan'"),
]


@pytest.mark.parametrize(("flat", "message"), BAD)
def test_bad_lines_keep_the_general_parsers_message(flat: str, message: str) -> None:
    assert parse_plain_decimal(flat, ",", 4) is None
    with pytest.raises(InputError) as fast_path:
        io._parse_numeric_block(PATH, flat, 4, ",", 2)
    with pytest.raises(InputError) as general_path:
        general(flat, 4)
    assert str(fast_path.value) == str(general_path.value) == message


def test_a_bad_line_deep_in_a_big_file_is_named(tmp_path: Path) -> None:
    rows = [f"{k / 100:.2f},0.1000,-0.2000,1.0000" for k in range(20000)]
    rows[15000] = "150.00,0.1000,-0.2x00,1.0000"
    path = tmp_path / "bad.csv"
    path.write_text("t,x,y,z\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv:15002: not a number: '-0\.2x00'"):
        load_recording(path)


def test_crlf_file_loads_the_same_as_lf(tmp_path: Path) -> None:
    rows = [f"{k / 50:.3f},{np.sin(k / 7):.4f},{-np.cos(k / 9):.4f},1.0000" for k in range(500)]
    lf = tmp_path / "lf.csv"
    crlf = tmp_path / "crlf.csv"
    lf.write_text("t,x,y,z\n" + "\n".join(rows) + "\n", encoding="utf-8")
    crlf.write_bytes(("t,x,y,z\r\n" + "\r\n".join(rows) + "\r\n\r\n").encode())
    a, b = load_recording(lf), load_recording(crlf)
    assert a.xyz_g is not None and b.xyz_g is not None and a.t_s is not None and b.t_s is not None
    assert same_bits(a.xyz_g, b.xyz_g) and same_bits(a.t_s, b.t_s)


decimal_text = st.builds(
    lambda sign, whole, frac, point: sign + whole + (("." + frac) if point else ""),
    st.sampled_from(["", "-"]),
    st.text("0123456789", min_size=1, max_size=15),
    st.text("0123456789", min_size=0, max_size=15),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(decimal_text, min_size=3, max_size=3), min_size=1, max_size=40))
def test_random_decimals_match_float(rows: list[list[str]]) -> None:
    flat = "\n".join(",".join(row) for row in rows)
    if max(len(v.lstrip("-").replace(".", "")) for row in rows for v in row) > io.PLAIN_TOTAL_DIGITS:
        assert parse_plain_decimal(flat, ",", 3) is None  # too many digits for one exact division
        return
    fast_equals_general(flat, 3)
