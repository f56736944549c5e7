"""Crystal structures: the reference parent cells and (later) disordered supercells."""

from nasicon_sim.structure.parent import load_parent, load_reference, read_annotated_cif

__all__ = ["load_parent", "load_reference", "read_annotated_cif"]
