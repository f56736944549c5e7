"""nasicon-sim: screen NASICON sodium solid electrolytes before synthesis.

The package is organised as a one-way data flow (see ``DESIGN`` in the README):
formula -> :mod:`nasicon_sim.composition` -> :mod:`nasicon_sim.descriptors`, and
parent C2/c structure (:mod:`nasicon_sim.structure.parent`) -> supercells -> BVSE landscapes.
Heavy sub-packages are imported lazily by their users, never here.
"""

from nasicon_sim.composition import NasiconComposition, compose, parse_nasicon
from nasicon_sim.descriptors import MSiteDescriptors, describe

__all__ = [
    "NasiconComposition",
    "MSiteDescriptors",
    "compose",
    "describe",
    "parse_nasicon",
]

__version__ = "0.1.0"
