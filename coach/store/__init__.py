"""The store: where sessions live on disk, plain files and SQLite, user-only, no network.

The session folder is the truth (:mod:`~coach.store.record`: events.jsonl, capture.jsonl, summary.json;
:mod:`~coach.store.afterrun`: after-run.jsonl, the capture analysed after the run); the SQLite
database is an index rebuilt from the folders (:mod:`~coach.store.database`, :mod:`~coach.store.index`); recordings
made with other tools become session folders through :mod:`~coach.store.importer`. Formats: docs/formats/.
"""
