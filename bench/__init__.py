"""Benchmarks on real data (issue 3): ``python -m bench`` runs them all and writes bench/RESULTS.md.

Not part of the installed package; run from the repository root with the project's venv.
"""
