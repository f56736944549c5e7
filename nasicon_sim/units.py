"""Units and physical constants: one place, one unit system (eV, Angstrom, K, e).

Values come from CODATA 2018 through :mod:`ase.units`, so nasicon-sim and ASE never disagree.
"""

from __future__ import annotations

from ase import units as _ase_units

#: Coulomb constant e^2 / (4 pi eps0) in eV * Angstrom (CODATA 2018 via ASE: 14.3996...).
COULOMB_EV_A: float = float(_ase_units.Hartree * _ase_units.Bohr)

#: Boltzmann constant in eV / K.
BOLTZMANN_EV_K: float = float(_ase_units.kB)

#: Picometres per Angstrom (Shannon radii are tabulated in Angstrom, the study quotes pm).
PM_PER_A: float = 100.0

#: Bohr radius in Angstrom (Gaussian cube files are written in Bohr).
BOHR_A: float = float(_ase_units.Bohr)
