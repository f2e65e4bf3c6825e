"""The plan: what the runner should do, now and next.

:mod:`~coach.plan.programme` reads walk/run programmes (built-in or TOML files) into session plans;
:mod:`~coach.plan.progression` decides the next session from past sessions and pain (docs/progression.md).
Pure: no I/O beyond reading a programme file.
"""
