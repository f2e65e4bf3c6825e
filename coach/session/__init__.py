"""The coached session: what happens while the runner runs.

Pure core: the cue words (:mod:`~coach.session.cues`), the session engine that runs a plan against the live signal
(:mod:`~coach.session.engine`), adherence, the one definition of "did the runner do what the plan asked"
(:mod:`~coach.session.adherence`), and the tracker that turns samples into what the engine needs
(:mod:`~coach.session.tracker`). Shells: the live panel (:mod:`~coach.session.display`) and the runner that wires a
source, the signal, the engine, the voice, the display and the session folder on one session clock
(:mod:`~coach.session.runner`).
"""
