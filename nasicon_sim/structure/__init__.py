"""Crystal structures: the reference parent cells and disordered supercells built from them."""

from nasicon_sim.structure.ensemble import Configuration, Ensemble, build_ensemble
from nasicon_sim.structure.parent import load_parent, load_reference, read_annotated_cif
from nasicon_sim.structure.supercell import choose_supercell, parent_sites_in_supercell

__all__ = [
    "Configuration",
    "Ensemble",
    "build_ensemble",
    "choose_supercell",
    "load_parent",
    "load_reference",
    "parent_sites_in_supercell",
    "read_annotated_cif",
]
