"""The virtual strap: a chest strap emulated with bumble on an in-process link, plus a bleak backend for it.

The only package that imports bumble (an optional dependency: ``pip install coach[virtual]``). Importing this
package is light; bumble is imported by the modules that need it:

- :mod:`sensors.sources.virtual.link`: the virtual air (LocalLink + controllers, with the LE Create Connection Cancel fix);
- :mod:`sensors.sources.virtual.strap`: the GATT peripheral streaming a capture file;
- :mod:`sensors.sources.virtual.backend`: ``BumbleScanner`` / ``BumbleClient`` for ``bleak``'s ``backend=``;
- :mod:`sensors.sources.virtual.source`: ``VirtualSource``, the production client against the virtual strap
  (``--sensor virtual:PATH[?drop_every=S&hr_only=1]``);
- :mod:`sensors.sources.virtual.script` and :mod:`sensors.sources.virtual.pmd_server`: the pure parts (what the strap serves,
  how it answers PMD requests).
"""
