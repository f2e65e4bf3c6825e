"""Where headless Chromium is and how it is started: for the PDF of ``coach summary`` and the page checks
(tools/chromium.py, used by the tests and ``make report-screenshot``). One list of names, one set of switches."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Chromium's names on Debian, other Linux distributions and macOS/Windows installs on the PATH.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: Headless Chromium with nothing that reaches the network or needs a sandbox (containers, CI); each caller starts
#: it with a fresh ``--user-data-dir`` of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium() -> str | None:
    """The Chromium executable: ``$COACH_CHROMIUM`` (or make's ``$CHROMIUM``) when set, else the first of
    :data:`CHROMIUM_NAMES` on the PATH; None when there is none."""
    for variable in ("COACH_CHROMIUM", "CHROMIUM"):
        chosen = os.environ.get(variable)
        if chosen:
            return shutil.which(chosen) or (chosen if Path(chosen).is_file() else None)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
