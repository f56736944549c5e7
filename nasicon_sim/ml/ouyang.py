"""The DFT stability set of Ouyang et al. (2021): 3881 NASICON compositions.

B. Ouyang, J. Wang, T. He, C. J. Bartel, H. Huo, Y. Wang, V. Lacivita, H. Kim, G. Ceder,
"Synthetic accessibility and stability rules of NASICONs", Nat. Commun. 12 (2021) 5752,
doi:10.1038/s41467-021-26006-3; data from github.com/Jeff-oakley/NASICON_Predictor_Data
(commit efaf045b, MIT licence), shipped in ``nasicon_sim/data/ouyang2021/`` with its README.

Every ``CompName`` (``NaMgGa3(SO4)6``, ``Na3Mg7.5Zr4.5S18O72``, ``Na6Hf3MgSi2(PO6)4``, Na-free
``MgZr(SO4)3`` ...) is parsed by :func:`nasicon_sim.composition.parse_nasicon`, which normalises
to 12 O and three tetrahedral sites (S6+, P5+, Si4+). A name that does not parse is listed
in :attr:`OuyangDataset.unparsed` with the parser's message and left out of every array.

Labels: ``NewEhullLst`` is the DFT energy above the hull in meV/atom *at 1000 K*, i.e.
E_hull(DFT) - T S_ideal with T = 1000 K (their notebook ``Run_five_fold_CV.ipynb``, note 1);
their classes are E_hull <= 0 (stable, "GS/LS") and > 0 (unstable, "US"). Here ``y = 1``
marks the stable class. Rows are kept in the authors' order, ``train.csv`` then ``test.csv``,
which their five-fold CV (``StratifiedKFold(5, shuffle=True, random_state=0)`` on the
concatenation) relies on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from nasicon_sim.composition import NasiconComposition, parse_nasicon
from nasicon_sim.errors import DataError, NasiconSimError

__all__ = ["DESCRIPTOR_2D_COLUMNS", "OuyangDataset", "experimental_compositions",
           "load_ouyang2021"]

#: The two columns of their SISSO descriptor in ``*_2D.csv``.
DESCRIPTOR_2D_COLUMNS: tuple[str, str] = (
    "(cbrt(NNaLst)+(AnionChgStdLst)^2)",
    "((EWaldSumLst)^2*(XWithNaLst*RDiffStdLst))",
)
_FILES = (("train", "train.csv", "train_2D.csv"), ("test", "test.csv", "test_2D.csv"))


@dataclass(frozen=True)
class OuyangDataset:
    """The parsed Ouyang et al. (2021) set, rows in the authors' order (train, then test).

    Attributes
    ----------
    names : tuple of str
        ``CompName`` as printed by the authors.
    compositions : tuple of NasiconComposition
    e_hull_meV : numpy.ndarray, shape (n,)
        Energy above the hull at 1000 K, meV/atom (``NewEhullLst``).
    descriptor_2d : numpy.ndarray, shape (n, 2)
        Their 2D descriptor (:data:`DESCRIPTOR_2D_COLUMNS`); the second coordinate uses DFT
        Ewald energies, so it is not formula-only.
    split : numpy.ndarray of str, shape (n,)
        ``"train"`` or ``"test"``: the authors' 80/20 split.
    unparsed : tuple of (str, str)
        Names the parser rejected, with its message (left out of the arrays).
    sha256 : str
        Hash of the four CSV files, in order.
    """

    names: tuple[str, ...]
    compositions: tuple[NasiconComposition, ...]
    e_hull_meV: np.ndarray
    descriptor_2d: np.ndarray
    split: np.ndarray
    unparsed: tuple[tuple[str, str], ...]
    sha256: str

    @property
    def y(self) -> np.ndarray:
        """1 for stable (E_hull <= 0), 0 for unstable; their class split."""
        return (self.e_hull_meV <= 0).astype(int)

    def __len__(self) -> int:
        return len(self.names)


def _read(name: str) -> bytes:
    return resources.files("nasicon_sim").joinpath(f"data/ouyang2021/{name}").read_bytes()


@lru_cache(maxsize=1)
def load_ouyang2021() -> OuyangDataset:
    """Load and parse the shipped Ouyang et al. (2021) set (cached).

    Returns
    -------
    OuyangDataset

    Raises
    ------
    DataError
        If the main and the 2D files disagree on the compositions or their order.
    """
    digest = hashlib.sha256()
    names: list[str] = []
    e_hull: list[float] = []
    desc: list[tuple[float, float]] = []
    split: list[str] = []
    for part, main_file, file_2d in _FILES:
        main_bytes, bytes_2d = _read(main_file), _read(file_2d)
        digest.update(main_bytes)
        digest.update(bytes_2d)
        main_rows = list(csv.DictReader(io.StringIO(main_bytes.decode("utf-8"))))
        rows_2d = list(csv.DictReader(io.StringIO(bytes_2d.decode("utf-8"))))
        if [r["CompName"] for r in main_rows] != [r["CompName"] for r in rows_2d]:
            raise DataError(f"{main_file} and {file_2d} list different compositions")
        for row, row_2d in zip(main_rows, rows_2d):
            names.append(row["CompName"])
            e_hull.append(float(row["NewEhullLst"]))
            desc.append((float(row_2d[DESCRIPTOR_2D_COLUMNS[0]]),
                         float(row_2d[DESCRIPTOR_2D_COLUMNS[1]])))
            split.append(part)
    keep: list[int] = []
    comps: list[NasiconComposition] = []
    unparsed: list[tuple[str, str]] = []
    for i, name in enumerate(names):
        try:
            comps.append(parse_nasicon(name))
            keep.append(i)
        except NasiconSimError as exc:
            unparsed.append((name, str(exc)))
    idx = np.array(keep, dtype=int)
    return OuyangDataset(
        names=tuple(names[i] for i in keep),
        compositions=tuple(comps),
        e_hull_meV=np.asarray(e_hull)[idx],
        descriptor_2d=np.asarray(desc)[idx],
        split=np.asarray(split)[idx],
        unparsed=tuple(unparsed),
        sha256=digest.hexdigest(),
    )


def experimental_compositions() -> dict[str, tuple[str, ...]]:
    """Compositions the authors list as synthesised (``exp_comps.json``).

    Returns
    -------
    dict
        ``reported_exp_comps`` (27 from the literature) and ``new_exp_comps`` (5 made by them).
    """
    data = json.loads(_read("exp_comps.json").decode("utf-8"))
    return {key: tuple(value) for key, value in data.items()}
