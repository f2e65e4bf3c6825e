"""coach: a walk/run session coach for getting back to running after back pain.

The house (docs/maintainers/architecture.md), one room per concern:

- :mod:`coach.signal`: cadence, steps and walk/run/still from the accelerometer (pure);
- :mod:`coach.plan`: programmes and progression (pure);
- :mod:`coach.session`: the coached session: engine, cues, adherence, tracker (pure) and the runner and display;
- :mod:`coach.voice`: speech, audio players and the audio tape;
- :mod:`coach.store`: the session folder, the SQLite index, imports;
- :mod:`coach.report`: the report model, its HTML page, FIT/TCX export;
- :mod:`coach.cli`: the commands.

Beside them only the words every room shares: :mod:`coach.vocabulary`, :mod:`coach.text`, :mod:`coach.errors`.
"""

__version__ = "0.1.0"
