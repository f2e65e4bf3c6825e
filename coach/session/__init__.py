"""The coached session: what happens while the runner runs.

Pure core: the cue words (:mod:`~coach.session.cues`), the session engine that runs a plan against the live signal
(:mod:`~coach.session.engine`), adherence, the one definition of "did the runner do what the plan asked"
(:mod:`~coach.session.adherence`), the tracker that turns samples into what the engine needs
(:mod:`~coach.session.tracker`), and a routine's timeline and its engine (:mod:`~coach.session.exercise`). Shells: the
live panel (:mod:`~coach.session.display`), the session shell that every session runs in (folder, voice, display,
controls, speaker, session_end: :mod:`~coach.session.shell`), and on it the walk/run runner that wires a source, the
signal and the engine on one session clock (:mod:`~coach.session.runner`) and the guided routine
(:mod:`~coach.session.exercise_runner`).
"""
