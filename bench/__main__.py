"""``python -m bench [NAME ...] [--quick] [--algorithms coach,fft,...] [--no-speed] [--no-write]``.

With no benchmark name every benchmark runs (``signal``, ``voice``, ``ble`` (the virtual strap, then the BlueZ rig when it can run), ``long``, ``robustness``, ``hr``). Each prints a compact table
and writes its own section of bench/RESULTS.md (unless ``--no-write`` or ``--quick``, whose numbers are not
the reference ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = ("signal", "voice", "ble", "long", "robustness", "hr")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks on real data.")
    p.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)"
    )
    p.add_argument(
        "--algorithms",
        default="coach,coach_live,fft,fft_causal,gaitlumbar,gaitlumbar_ref,mobgap,mobgap_ref",
        help="comma-separated, default all",
    )
    p.add_argument("--quick", action="store_true", help="shorter speed runs; does not write RESULTS.md")
    p.add_argument("--no-speed", action="store_true", help="skip the speed and memory measurements")
    p.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    p.add_argument("--results", type=Path, default=RESULTS, help="where to write the results (markdown)")
    p.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="signal: run coach with this StreamingGaitEstimator parameter (repeatable; implies --no-write)",
    )
    args = p.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    if unknown_names := sorted(set(names) - set(BENCHMARKS)):
        p.error(f"unknown benchmark(s): {', '.join(unknown_names)}; choose from {', '.join(BENCHMARKS)}")
    if "signal" in names:
        from bench import report, signal_bench

        algos = [a.strip() for a in args.algorithms.split(",") if a.strip()]
        unknown = sorted(set(algos) - set(signal_bench.ALGOS))
        if unknown:
            p.error(f"unknown algorithm(s): {', '.join(unknown)}")
        if args.params:
            from bench.algorithms import COACH_PARAMS

            COACH_PARAMS.update(_parse_params(p, args.params))
        res = signal_bench.run(quick=args.quick, algos=algos, speed=not args.no_speed)
        report.print_summary(res)
        if not (args.no_write or args.quick or args.params):
            report.write_results(res, args.results, argv)
    rc = 0
    if "voice" in names:  # cue latency at real time (issue 5); prints its own summary
        from bench import voice_bench

        rc = voice_bench.main(["--changes", "6"] if args.quick else ([] if args.no_write else ["--write"]))
    if (
        "ble" in names
    ):  # CPU of the BLE client and reconnect times: the virtual strap (issue 4), the BlueZ rig (12)
        from bench import ble_bench

        rc = max(rc, ble_bench.main(["--quick"] if args.quick else (["--no-write"] if args.no_write else [])))
        # the same client on bleak's BlueZ backend against the BlueZ rig (issue 12), when the rig can run here
        from bench import ble_bluez_bench
        from tests.bluez_rig import bluez_rig_available

        missing = bluez_rig_available()
        if missing is not None:
            print(f"bench ble: the BlueZ path is not measured here: {missing}", file=sys.stderr)
        else:
            quick = ["--seconds", "20", "--no-write"] if args.quick else []
            rc = max(
                rc, ble_bluez_bench.main(quick + (["--no-write"] if args.no_write and not args.quick else []))
            )
    if "long" in names:  # a 2-hour 200 Hz session through `coach run`: peak RSS, RSS over time, CPU (issue 7)
        from bench import long_session_bench

        rc = max(
            rc,
            long_session_bench.main(["--hours", "0.25", "--no-write"] if args.quick or args.no_write else []),
        )
    if "robustness" in names:  # the fuzz run and the bad-input table of the test suite, counted (issue 7)
        from bench import robustness

        rc = max(rc, robustness.main(["--no-write"] if args.no_write else []))
    if "hr" in names:  # heart-rate cleaning on real RR with injected artefacts (issue 14)
        from bench import hr_bench

        rc = max(rc, hr_bench.main(["--no-write"] if args.no_write or args.quick else []))
    return rc


def _parse_params(p: argparse.ArgumentParser, items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs (VALUE a Python literal) checked against StreamingGaitEstimator's parameters."""
    import ast

    from coach.signal import StreamingGaitEstimator

    known = StreamingGaitEstimator().get_params()
    out: dict[str, Any] = {}  # literals of any type: the constructor below checks them
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in known:
            p.error(f"--set {item}: expected NAME=VALUE with NAME one of {', '.join(known)}")
        try:
            out[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            p.error(f"--set {item}: {text!r} is not a number, tuple or other Python literal")
    try:
        StreamingGaitEstimator(**out)
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
