"""The BlueZ rig: bleak's real BlueZ backend against an emulated BlueZ, no hardware, no root (issue 12).

Pieces (each its own process): a private ``dbus-daemon`` (its address goes to ``DBUS_SYSTEM_BUS_ADDRESS``), BlueZoo
(PyPI ``bluezoo``, GPL-2.0-only, a test-time extra ``coach[bluez]``, never imported here) with the runtime patch of
:mod:`tests.bluez_rig.bluezoo_patched` and two adapters (``hci0`` for coach, ``hci1`` for the strap), and the virtual
strap as a BlueZ GATT application (:mod:`tests.bluez_rig.strap`) streaming a capture file.

API (also for ``coach doctor``'s tests)::

    rig = BluezRig(tmp_path, capture=FIXTURE, faults=Faults(pair_required=True))
    rig.start()                  # or: with BluezRig(...).running() as rig:
    rig.bus_address              # for DBUS_SYSTEM_BUS_ADDRESS (rig.env: the whole environment for a subprocess)
    rig.strap_name, rig.strap_address, rig.central_address
    rig.kill_strap(); rig.start_strap()   # a strap switched off, then on again
    rig.strap_command("drop")    # the strap drops the link now
    rig.wait_line("PLAYED")      # a line the strap printed (READY, CONNECTED, TIMELINE, DROP, PLAYED, FINISHED:
                                 # see tests/bluez_rig/strap.py); rig.lines: all of them since its last start
    rig.set_powered(False)       # coach's adapter switched off (Adapter1.Powered), as bluetoothctl power off
    rig.device()                 # BlueZ's Device1 properties of the strap as coach's adapter sees it (Connected,
                                 # Paired, ...); rig.bluez_objects(): all of BlueZ's objects
    rig.stop()

Faults: ``Faults(drop_every_s=, pair_required=, no_pmd=, connect_in_progress=, connect_abort=)``; the strap runs
``speed`` times real time (``BluezRig(..., speed=10)``). Call :meth:`BluezRig.start` outside a running event loop
(or through ``asyncio.to_thread``): it reads BlueZ's state with ``asyncio.run``.

:func:`bluez_rig_available` says why the rig cannot run here (``None`` when it can): tests skip with that one line,
except on CI (``CI=true``), where a missing piece fails. Fixtures: tests/test_ble_bluez.py.
"""

from tests.bluez_rig.rig import CENTRAL_ADDRESS, STRAP_ADDRESS, BluezRig, Faults, bluez_rig_available

__all__ = ["CENTRAL_ADDRESS", "STRAP_ADDRESS", "BluezRig", "Faults", "bluez_rig_available"]
