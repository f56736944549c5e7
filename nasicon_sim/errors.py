"""The exception hierarchy of nasicon-sim.

Every error a user can provoke with bad input derives from :class:`NasiconSimError`; the CLI
turns it into one line on standard error and a non-zero exit code. Anything else escaping the
library is a bug.
"""

from __future__ import annotations


class NasiconSimError(Exception):
    """Base class of all user-facing errors raised by nasicon-sim."""


class FormulaError(NasiconSimError, ValueError):
    """A chemical formula could not be read (syntax, missing or negative amounts)."""


class UnknownElementError(FormulaError):
    """A formula names a symbol that is not a chemical element."""


class NotNasiconError(FormulaError):
    """A formula is readable but is not of the Na(1+y) M2 (Si,P,S)3 O12 NASICON type."""


class MSiteError(NotNasiconError):
    """The octahedral M site does not sum to 2 per formula unit (within the stated tolerance)."""


class ChargeBalanceError(FormulaError):
    """No oxidation-state assignment makes the formula charge neutral."""


class OxidationStateError(FormulaError):
    """An element has no known oxidation state, or an override is not usable."""


class StructureError(NasiconSimError, ValueError):
    """A crystal structure cannot be used as given (disorder, missing species, bad file)."""


class ParameterError(NasiconSimError, KeyError):
    """A physical parameter (e.g. a bond-valence pair) is missing from the tables."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ResourceLimitError(NasiconSimError, MemoryError):
    """A request would exceed a stated memory or size limit (e.g. a grid too large)."""


class DataError(NasiconSimError, ValueError):
    """A data table (CSV, study definition) has missing columns or bad rows."""


class OptionalDependencyError(NasiconSimError, ImportError):
    """An optional extra is needed for this command; the message says how to install it."""


class SupercellError(StructureError):
    """No supercell within the stated limits hosts the composition, or a supercell matrix
    is invalid (not 3x3 integers, determinant <= 0, over the atom cap)."""


class SublatticeError(StructureError):
    """A sublattice cannot hold what is asked: more species than positions, or Na that
    cannot be placed without two Na closer than the stated minimum distance."""


class FeatureError(NasiconSimError, ValueError):
    """An unknown feature name, or composition arrays of inconsistent shape for the ML features."""


class ModelFileError(NasiconSimError, ValueError):
    """A saved model cannot be used: missing or altered file or metadata, or it was fitted on a
    different feature list (or dataset) than the caller asks for."""


class ScreeningError(NasiconSimError, ValueError):
    """A screening request breaks its own rules (dopant valence or radius, grid, bounds)."""
