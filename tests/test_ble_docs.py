"""The Python example in docs/ble.md runs as written (so it never rots)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_docs_ble_example_runs() -> None:
    text = (REPO / "docs" / "ble.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    beats = eval(proc.stdout.strip().splitlines()[-1], {})  # the printed list
    assert isinstance(beats, list) and len(beats) == 3 and all(40 <= b <= 220 for b in beats)
    assert "Traceback" not in proc.stderr
