"""File formats in and out, one module per family (see ``docs/design.md``).

Import the function you need from its module (``nasicon_sim.io.read``,
``nasicon_sim.io.volumetric`` ...); this package imports nothing heavy itself.
"""
