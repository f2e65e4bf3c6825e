"""After the run: the report model and what is made from it.

:mod:`~coach.report.model` builds the pure report model of a session folder (and its text form);
:mod:`~coach.report.html` renders it as a self-contained page; :mod:`~coach.report.activity` and
:mod:`~coach.report.export` turn a session into FIT and TCX files for other programs. docs/report.md.
"""
