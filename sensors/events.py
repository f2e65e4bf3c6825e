"""The sensor event vocabulary: every name a source, a decoder or a converter gives a ``SensorEvent``.

One home for the names that travel from sensors/ to coach/ (docs/formats/capture.md, "Event names"). Each
:class:`SensorEventName` member *is* its string (a ``StrEnum``), so it compares equal to the name in a capture file
and serialises as that name: ``SensorEventName.CONNECTED == "connected"``.

The vocabulary is open: capture files from newer writers may hold names that are not here, and readers must accept
them (:func:`event_name` keeps such a name as the plain string it read).
"""

from __future__ import annotations

from enum import StrEnum


class SensorEventName(StrEnum):
    """What happened to a sensor or its stream (the ``event`` of a capture record and of a ``SensorEvent``)."""

    #: The link is up (also after a reconnection: then ``reconnect`` > 0 and ``outage_s`` is the time it was down).
    CONNECTED = "connected"
    #: The link went down (a drop, or the end of the session); field ``reason``.
    DISCONNECTED = "disconnected"
    #: A connection attempt failed; fields ``reason``, ``attempt``.
    CONNECT_FAILED = "connect_failed"
    #: The supervisor waits ``delay_s`` before the next connection attempt.
    RECONNECT_ATTEMPT = "reconnect_attempt"
    #: Notifications enabled on characteristic ``char``.
    SUBSCRIBED = "subscribed"
    #: A Polar PMD stream was started with these settings (``sample_rate_hz``, ``range_g``, ``resolution_bits``...).
    PMD_STARTED = "pmd_started"
    #: A Polar PMD stream was stopped.
    PMD_STOPPED = "pmd_stopped"
    #: No accelerometer on this connection (``measurement``, ``text``: what failed, what the session loses, what to
    #: do; ``status``/``status_name`` when the strap refused a PMD request, ``reason`` otherwise: ``no_pmd_service``
    #: for a strap without the PMD service, or the error).
    PMD_ERROR = "pmd_error"
    #: coach paired (bonded) with the strap because it refused the accelerometer until paired (``address``).
    PAIRED = "paired"
    #: The strap was found still connected in the operating system (a previous run killed): that link is used.
    REUSED_CONNECTION = "reused_connection"
    #: A PMD control point response (decoded from the wire).
    PMD_RESPONSE = "pmd_response"
    #: A PMD features read (which measurements the strap offers).
    PMD_FEATURES = "pmd_features"
    #: The sensor clock jumped against the host clock by ``jump_s``: ACC times are re-anchored.
    PMD_REANCHORED = "pmd_reanchored"
    #: A payload could not be decoded (``char``, ``reason``, ``hex``); the session goes on.
    DECODE_ERROR = "decode_error"
    #: The Body Sensor Location characteristic was read (``location``).
    BODY_SENSOR_LOCATION = "body_sensor_location"
    #: The source's data ran out (a virtual strap's capture): no more reconnecting.
    ENDED = "ended"
    #: Free text: a converter's remark, a user's marker.
    NOTE = "note"


#: Events after which the next ACC frame starts a new run of consecutive frames (laid out at the nominal rate
#: instead of being spread over the interruption).
STREAM_BREAK_EVENTS = frozenset(
    {
        SensorEventName.CONNECTED,
        SensorEventName.DISCONNECTED,
        SensorEventName.PMD_STARTED,
        SensorEventName.PMD_STOPPED,
    }
)


def event_name(name: str) -> SensorEventName | str:
    """``name`` as a :class:`SensorEventName` member when it is one, else the string itself (an unknown name)."""
    try:
        return SensorEventName(name)
    except ValueError:
        return name
