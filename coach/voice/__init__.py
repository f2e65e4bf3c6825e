"""The voice: speaking cues without ever freezing the session.

:mod:`~coach.voice.speaker` owns speech (the only module importing pyttsx3, in a worker process; espeak-ng, chime
and text fallbacks; a watchdog); :mod:`~coach.voice.audio` holds WAV checks, the audio players and the audio tape
(``--audio-out``). Behaviour: docs/voice.md.
"""
