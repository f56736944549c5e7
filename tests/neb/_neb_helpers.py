"""Analytic potentials and small systems for the NEB tests."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes


def double_well(x: np.ndarray, height: float, half_width: float, tilt: float):
    """V(x) = h (u^2 - 1)^2 + t u with u = x / w; returns (V, dV/dx)."""
    u = x / half_width
    v = height * (u ** 2 - 1) ** 2 + tilt * u
    dv = (4 * height * u * (u ** 2 - 1) + tilt) / half_width
    return v, dv


class DoubleWell(Calculator):
    """Atom 0 moves in a double well along x (harmonic in y, z); other atoms are tethered.

    :class:`BatchedDoubleWell` adds ``batch_energies_forces`` (the batch protocol of
    ``nasicon_sim.neb.band``).
    """

    implemented_properties = ("energy", "forces")

    def __init__(self, height=0.5, half_width=1.0, tilt=0.0, stiffness=2.0, centre=(5, 5, 5),
                 **kwargs):
        super().__init__(**kwargs)
        self.p = (height, half_width, tilt, stiffness, np.array(centre, float))
        self.n_calls = 0

    def _one(self, positions):
        h, w, t, k, c = self.p
        r = positions - c
        v, dv = double_well(r[0, 0], h, w, t)
        e = v + 0.5 * k * (r[0, 1] ** 2 + r[0, 2] ** 2) + 0.5 * k * np.sum(r[1:] ** 2)
        f = -k * r
        f[0] = [-dv, -k * r[0, 1], -k * r[0, 2]]
        return float(e), f

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.n_calls += 1
        e, f = self._one(self.atoms.positions)
        self.results = {"energy": e, "forces": f}



class BatchedDoubleWell(DoubleWell):
    """:class:`DoubleWell` that evaluates many images in one call."""

    def batch_energies_forces(self, images):
        self.n_calls += 1
        out = [self._one(a.positions) for a in images]
        return np.array([o[0] for o in out]), np.stack([o[1] for o in out])


def well_atoms(x: float, centre=(5, 5, 5)) -> Atoms:
    c = np.array(centre, float)
    return Atoms("H2", positions=[c + [x, 0, 0], c + [0, 3, 0]], cell=[10, 10, 10], pbc=True)


def cu_vacancy(size: int = 2):
    """fcc Cu (EMT lattice constant) with one vacancy; returns (atoms, neighbour index)."""
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (size, size, size)
    vac = atoms.positions[0].copy()
    del atoms[0]
    d = np.linalg.norm(atoms.positions - vac, axis=1)
    return atoms, int(np.argmin(d)), vac


class Tether(Calculator):
    """Every atom tied by a spring (2 eV/A^2) to where it was in the first structure evaluated.

    A hop's final end point (moving ion displaced to site j) relaxes back to site i under it:
    the end point leaves its site.
    """

    implemented_properties = ("energy", "forces")

    def __init__(self, k=2.0):
        super().__init__()
        self.k = k
        self.anchor = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        pos = self.atoms.get_positions()
        if self.anchor is None:
            self.anchor = pos.copy()
        d = pos - self.anchor
        self.results = {"energy": 0.5 * self.k * float((d ** 2).sum()), "forces": -self.k * d}


def tether() -> Tether:
    return Tether()


def nzsp_structure(tmp_dir):
    """An ordered NZSP configuration from the builder (80 atoms, seed 0)."""
    from nasicon_sim.cli.main import main
    from nasicon_sim.io.read import read_structure

    out = tmp_dir / "nzsp"
    if not (out / "conf_000.cif").is_file():
        assert main(["build", "Na3Zr2Si2PO12", "-n", "1", "--seed", "0", "-o", str(out)]) == 0
    return read_structure(out / "conf_000.cif"), out / "conf_000.cif"


def write_vasprun(path, atoms, energy_eV: float, forces=None) -> None:
    """A minimal vasprun.xml of one ionic step (what ASE's ``vasp-xml`` reader needs).

    Neither ASE nor pymatgen writes vasprun.xml, so the tests make this synthetic one from the
    images: species, cell and fractional positions of ``atoms``, the energy and the forces.
    """
    import numpy as np

    def varray(name, rows):
        body = "".join(f"   <v> {' '.join(f'{x:.10f}' for x in r)} </v>\n" for r in rows)
        return f'  <varray name="{name}">\n{body}  </varray>\n'

    frac = atoms.get_scaled_positions(wrap=False)
    cell = atoms.cell.array
    forces = np.zeros((len(atoms), 3)) if forces is None else forces
    species = "".join(f"    <rc><c>{s}</c><c>1</c></rc>\n" for s in atoms.get_chemical_symbols())
    crystal = "  <crystal>\n" + varray("basis", cell) + "  </crystal>\n"
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n'
        '<kpoints>\n' + varray("kpointlist", [[0, 0, 0]]) + varray("weights", [[1.0]])
        + '</kpoints>\n<parameters>\n</parameters>\n'
        f'<atominfo>\n <atoms> {len(atoms)} </atoms>\n <array name="atoms">\n  <set>\n'
        f'{species}  </set>\n </array>\n</atominfo>\n'
        '<structure name="initialpos">\n' + crystal + varray("positions", frac)
        + '</structure>\n<calculation>\n'
        '<scstep>\n <energy>\n'
        f'  <i name="e_fr_energy"> {energy_eV:.8f} </i>\n'
        f'  <i name="e_0_energy"> {energy_eV:.8f} </i>\n </energy>\n</scstep>\n'
        '<structure>\n' + crystal + varray("positions", frac) + '</structure>\n'
        + varray("forces", forces)
        + f' <energy>\n  <i name="e_fr_energy"> {energy_eV:.8f} </i>\n'
        f'  <i name="e_0_energy"> {energy_eV:.8f} </i>\n </energy>\n'
        '</calculation>\n</modeling>\n')
    with open(path, "w") as handle:
        handle.write(text)


class BornMayer(Calculator):
    """A toy ionic potential for NEB tests on NASICON cells, cheap and with real saddles.

    Mobile ions (Na) repel the oxygens and each other with Born-Mayer terms
    A exp(-r / rho) (Na-O: A = 5836.814 eV, rho = 0.2387 A, and Na-Na: A = 7895.4 eV,
    rho = 0.1709 A, magnitudes as tabulated for Bush, Gale, Catlow & Battle, J. Mater. Chem. 4
    (1994) 831, not checked against that paper: the tests need only a smooth repulsion with
    real saddles, and check its forces against finite differences); every other
    atom is tied by a spring (5 eV/A^2) to where it was in the first structure evaluated. A Na+
    ion rests in a cage of oxygens and crosses the oxygen window between two sites over a
    barrier; distances by minimum image (cells wider than 2 x 3 A).
    """

    implemented_properties = ("energy", "forces")
    PAIRS = {("Na", "O"): (5836.814, 0.2387), ("Na", "Na"): (7895.4, 0.1709)}

    def __init__(self, k=5.0):
        super().__init__()
        self.k = k
        self.anchor = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        from ase.geometry import get_distances

        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        pos = a.get_positions()
        sym = np.array(a.get_chemical_symbols())
        na = np.flatnonzero(sym == "Na")
        frame = np.flatnonzero(sym != "Na")
        if self.anchor is None:
            self.anchor = pos.copy()
        d = pos[frame] - self.anchor[frame]
        energy = 0.5 * self.k * float((d ** 2).sum())
        forces = np.zeros_like(pos)
        forces[frame] = -self.k * d
        for (_, s2), (big_a, rho) in self.PAIRS.items():
            other = np.flatnonzero(sym == s2)
            vec, dist = get_distances(pos[na], pos[other], cell=a.cell, pbc=a.pbc)
            near = (dist < 3.0) & (dist > 1e-6)
            if s2 == "Na":
                near &= np.triu(np.ones_like(near, dtype=bool), k=1)
            e = np.where(near, big_a * np.exp(-dist / rho), 0.0)
            energy += float(e.sum())
            # vec points from the Na ion to its partner: dE/dx_Na = (e / rho) vec / r
            g = np.where(near, e / rho / np.where(near, dist, 1.0), 0.0)[..., None] * vec
            np.add.at(forces, na, -g.sum(axis=1))
            np.add.at(forces, other, g.sum(axis=0))
        self.results = {"energy": energy, "forces": forces}


def born_mayer() -> BornMayer:
    return BornMayer()
