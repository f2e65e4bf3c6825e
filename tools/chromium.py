"""Headless Chromium driven through the DevTools protocol over a pipe: look at a page at a given viewport.

Chromium starts with ``--remote-debugging-pipe``: it reads protocol commands (JSON, each ended by a NUL byte) from
file descriptor 3 and writes replies and events to descriptor 4. No port is opened and no socket is used, so the
tests' network guard (tests/conftest.py) stays on, and no chromedriver or Python package is needed, only the Debian
``chromium`` package.

Used by tests/test_report_browser.py (layout checks at phone and desktop width) and by ``make report-screenshot``::

    python tools/chromium.py report.html docs/img/report.png --width 1280
    python tools/chromium.py report.html docs/img/report-phone.png --width 390 --height 844 --mobile
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from coach.report.browser import CHROMIUM_FLAGS, find_chromium

#: The switches every run uses: no sandbox (containers), no GPU, nothing that reaches the network, a fresh profile.
FLAGS = (*CHROMIUM_FLAGS, "--hide-scrollbars", "--remote-debugging-pipe")
#: A safety net, not a timing assumption: Chromium silent this long (wall seconds) is taken as hung, so a broken
#: browser ends a test run with an error instead of blocking it.
SILENT_LIMIT_S = 120.0
#: How many protocol messages to read while waiting for one reply or event before giving up (a page that never
#: loads ends the wait with an error instead of hanging; counted in messages, not in wall time).
MAX_MESSAGES = 100_000


class ChromiumError(RuntimeError):
    """Chromium is missing, exited, or answered a command with an error."""


class Browser:
    """One headless Chromium with one page, on a fresh profile that is deleted on :meth:`close`."""

    def __init__(self, executable: str | None = None) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise ChromiumError(
                "Chromium not found: install it (Debian: apt-get install chromium) or set CHROMIUM"
            )
        self._profile = tempfile.mkdtemp(prefix="coach-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds() -> None:
            # runs in the child before exec: the pipe ends on descriptors 3 and 4 (inheritable), as Chromium
            # expects; copied out of the way first in case one of them already is 3 or 4
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # every other descriptor of ours is non-inheritable and closes at exec
            preexec_fn=child_fds,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        targets = self._call("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        target_id = (
            page["targetId"] if page else self._call("Target.createTarget", url="about:blank")["targetId"]
        )
        self._session = self._call("Target.attachToTarget", targetId=target_id, flatten=True)["sessionId"]
        self.page("Page.enable")

    # -- the protocol ----------------------------------------------------------------------------------------
    def _send(self, method: str, session: str | None, params: dict[str, Any]) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        return self._next_id

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            readable, _, _ = select.select([self._from_browser], [], [], SILENT_LIMIT_S)
            if not readable:
                raise ChromiumError(f"Chromium said nothing for {SILENT_LIMIT_S:.0f} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ChromiumError(f"Chromium exited (code {self._proc.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def _call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        wanted = self._send(method, session, params)
        for _ in range(MAX_MESSAGES):
            msg = self._read()
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise ChromiumError(f"{method}: {msg['error'].get('message')}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self._events.append(msg)
        raise ChromiumError(f"{method}: no reply")

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page (``Page.navigate``, ``Runtime.evaluate``, ...)."""
        return self._call(method, self._session, **params)

    def _wait_event(self, method: str) -> dict[str, Any]:
        for _ in range(MAX_MESSAGES):
            while self._events:
                event = self._events.pop(0)
                if event["method"] == method and event.get("sessionId") == self._session:
                    return event
            msg = self._read()
            if "method" in msg:
                self._events.append(msg)
        raise ChromiumError(f"no {method}")

    # -- what callers use ------------------------------------------------------------------------------------
    def open(self, url: str, *, width: int, height: int, mobile: bool = False) -> None:
        """Load ``url`` in a viewport of ``width`` x ``height`` CSS pixels (``mobile``: a phone, whose browser
        honours the page's viewport meta tag), and wait for its load event."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self._events.clear()
        reply = self.page("Page.navigate", url=url)
        if reply.get("errorText"):
            raise ChromiumError(f"cannot open {url}: {reply['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable results only)."""
        reply = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise ChromiumError(f"script error: {reply['exceptionDetails'].get('text')}")
        return reply["result"].get("value")

    def screenshot(self, out: Path) -> None:
        """The whole page (not only the viewport) as a PNG."""
        reply = self.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        out.write_bytes(base64.b64decode(reply["data"]))

    def close(self) -> None:
        try:
            self._send("Browser.close", None, {})
            self._proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a local HTML page with headless Chromium.")
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument(
        "--mobile", action="store_true", help="a phone viewport (honours the viewport meta tag)"
    )
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"error: {args.page}: no such file", file=sys.stderr)
        return 2
    try:
        with Browser() as browser:
            browser.open(
                args.page.resolve().as_uri(), width=args.width, height=args.height, mobile=args.mobile
            )
            browser.screenshot(args.out)
    except ChromiumError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
