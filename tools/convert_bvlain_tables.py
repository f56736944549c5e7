"""Convert bvlain's pickled softBV tables to the versioned text tables we ship (run once).

bvlain (https://github.com/dembart/BVlain, MIT licence) ships the softBV bond-valence
parameters as Python pickles. We never ship or load pickles; this script reads them once and
writes plain CSV files into ``nasicon_sim/bvse/data/`` with a provenance header (bvlain version,
SHA-256 of every source file, the primary literature). Run it again only to re-derive the
tables from a new bvlain release, and review the diff.

Usage::

    python tools/convert_bvlain_tables.py [--out nasicon_sim/bvse/data]

Checks made while converting (the script stops if one fails):

* ``cation.pkl`` (mobile cations) and ``anion.pkl`` (mobile anions) hold the same
  cation-anion pairs with identical numbers, so one symmetric table suffices;
* every valence is an integer and every parameter finite. Pairs with a non-positive
  parameter are transcribed as they are and listed in the header (``params.py`` refuses them).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import pickle
from importlib import metadata
from pathlib import Path

from ase.data import chemical_symbols

PAIR_SOURCE = (
    "softBV bond-valence site-energy parameters (Morse form): H. Chen, S. Adams, IUCrJ 4 (2017) 614, "
    "doi:10.1107/S2052252517010211; H. Chen, L. L. Wong, S. Adams, Acta Cryst. B 75 (2019) 18, "
    "doi:10.1107/S2052520618015718. Transcribed from bvlain {version} data/cation.pkl and "
    "data/anion.pkl (identical pairs; they equal the bvse.dat table shipped with CAVD, "
    "shuhebing/cavd, 557/557 overlapping pairs, see shared/research/BVSE-REPORT.md section 1.2)."
)
QN_SOURCE = (
    "Principal quantum number n of each element (q_eff = V / sqrt(n) in the softBV Coulomb term; "
    "Chen, Wong & Adams 2019). Transcribed from bvlain {version} data/quantum_n.pkl; the same values "
    "as CAVD elements.dat."
)
RADII_SOURCE = (
    "softBV covalent radii per element and valence (Angstrom), screening length "
    "rho = f (r_A + r_B): Chen, Wong & Adams, Acta Cryst. B 75 (2019) 18. Transcribed from bvlain "
    "{version} data/covalent_radii_softvb.pkl (equal to data/covalent_radii.py there and to "
    "CAVD elements.dat)."
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _header(source: str, files: list[Path], version: str, columns: str) -> str:
    lines = [f"# source: {source.format(version=version)}"]
    lines.append(f"# version: bvlain-{version} (converted by tools/convert_bvlain_tables.py)")
    for f in files:
        lines.append(f"# sha256 {f.name}: {_sha256(f)}")
    lines.append(f"# columns: {columns}")
    return "\n".join(lines) + "\n"


def _flatten_pairs(table: dict, mobile_is_cation: bool) -> dict[tuple, dict]:
    out = {}
    for ion, by_val in table.items():
        for val, by_counter in by_val.items():
            for counter, by_cval in by_counter.items():
                for cval, params in by_cval.items():
                    if mobile_is_cation:
                        key = (int(ion), int(val), int(counter), int(cval))
                    else:
                        key = (int(counter), int(cval), int(ion), int(val))
                    out[key] = {k: float(v) for k, v in params.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    import bvlain

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "nasicon_sim/bvse/data")
    args = parser.parse_args(argv)
    version = metadata.version("bvlain")
    src = Path(bvlain.__file__).parent / "data"
    cat_f, an_f = src / "cation.pkl", src / "anion.pkl"
    qn_f, rad_f = src / "quantum_n.pkl", src / "covalent_radii_softvb.pkl"
    with cat_f.open("rb") as fh:
        cations = _flatten_pairs(pickle.load(fh), True)
    with an_f.open("rb") as fh:
        anions = _flatten_pairs(pickle.load(fh), False)
    if cations.keys() != anions.keys():
        raise SystemExit("cation.pkl and anion.pkl hold different pairs; one table will not do")
    for key, p in cations.items():
        if p != anions[key]:
            raise SystemExit(f"cation.pkl and anion.pkl disagree for {key}")
        if key[1] <= 0 or key[3] >= 0:
            raise SystemExit(f"unexpected valences in {key}")
        if not all(math.isfinite(v) for v in p.values()):
            raise SystemExit(f"non-finite parameter values for {key}: {p}")
    odd = sorted(k for k, p in cations.items() if min(p.values()) <= 0)

    args.out.mkdir(parents=True, exist_ok=True)
    cols = ("cation,cation_valence,anion,anion_valence,r0_A,r_min_A,alpha_per_A,d0_eV")
    with (args.out / "softbv_pairs.csv").open("w") as fh:
        fh.write(_header(PAIR_SOURCE, [cat_f, an_f], version,
                         "r0_A bond-valence R0; r_min_A Morse minimum; alpha_per_A = 1/b; "
                         "d0_eV Morse well depth"))
        for c, cv, a, av in odd:
            fh.write(f"# suspicious (non-positive parameter, refused on lookup): "
                     f"{chemical_symbols[c]}{cv}+ {chemical_symbols[a]}{-av}-\n")
        fh.write(cols + "\n")
        for (c, cv, a, av), p in sorted(cations.items()):
            fh.write(f"{chemical_symbols[c]},{cv},{chemical_symbols[a]},{av},"
                     f"{p['r0']!r},{p['r_min']!r},{p['alpha']!r},{p['d0']!r}\n")

    with qn_f.open("rb") as fh:
        qn = {int(k): int(v) for k, v in pickle.load(fh).items()}
    with (args.out / "principal_quantum_numbers.csv").open("w") as fh:
        fh.write(_header(QN_SOURCE, [qn_f], version, "n principal quantum number"))
        fh.write("element,n\n")
        for z, n in sorted(qn.items()):
            fh.write(f"{chemical_symbols[z]},{n}\n")

    with rad_f.open("rb") as fh:
        radii = pickle.load(fh)
    with (args.out / "softbv_covalent_radii.csv").open("w") as fh:
        fh.write(_header(RADII_SOURCE, [rad_f], version, "radius_A covalent radius"))
        fh.write("element,valence,radius_A\n")
        for z, by_val in sorted(radii.items()):
            for val, r in sorted(by_val.items()):
                fh.write(f"{chemical_symbols[int(z)]},{int(val)},{float(r)!r}\n")
    print(f"wrote {len(cations)} pairs, {len(qn)} quantum numbers, "
          f"{sum(len(v) for v in radii.values())} radii to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
