"""Durations as people read them: the one place that turns seconds into ``m:ss`` or ``h:mm:ss``.

Pure and dependency-free, used by the terminal report, the HTML page, the CLI and the live display.
Both round to the nearest whole second first (Python's ``round``: halves go to the even second).
"""

from __future__ import annotations

from collections.abc import Callable

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


def mmss(seconds: float | None, *, missing: str = "-") -> str:
    """``90`` -> ``"1:30"``, ``4500`` -> ``"75:00"`` (minutes are not folded into hours: a plan reads "75:00").

    ``None`` (not measured) gives ``missing``; a negative duration keeps its sign (``-5`` -> ``"-0:05"``).
    """
    if seconds is None:
        return missing
    return _signed(
        float(seconds), lambda total: f"{total // SECONDS_PER_MINUTE}:{total % SECONDS_PER_MINUTE:02d}"
    )


def hmmss(seconds: float | None, *, missing: str = "--:--") -> str:
    """``90`` -> ``"1:30"``, ``4500`` -> ``"1:15:00"``: ``m:ss`` under an hour, ``h:mm:ss`` from one hour on.

    ``None`` gives ``missing``; a negative duration keeps its sign.
    """
    if seconds is None:
        return missing

    def fold(total: int) -> str:
        hours, rest = divmod(total, SECONDS_PER_HOUR)
        minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

    return _signed(float(seconds), fold)


def _signed(seconds: float, body: Callable[[int], str]) -> str:
    total = round(seconds)
    return "-" + body(-total) if total < 0 else body(total)
