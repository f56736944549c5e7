"""Provenance: which nasicon-sim (and which key libraries) produced an output.

Every JSON object the command line prints and every study report carries the package
version, so a number can always be traced to the code that made it:

* :func:`stamp` adds ``"nasicon_sim_version"`` to a JSON-able dict (or to every dict of a
  list); the CLI applies it to everything a ``--json`` command prints
  (:func:`nasicon_sim.cli.main.main`), so new commands are covered without their own code;
* :func:`software_line` is the one-line statement of versions written into reports.

Examples
--------
>>> from nasicon_sim import __version__
>>> stamp({"E_3D_eV": 0.62})["nasicon_sim_version"] == __version__
True
>>> [sorted(row) for row in stamp([{"a": 1}, {"b": 2}])]
[['a', 'nasicon_sim_version'], ['b', 'nasicon_sim_version']]
>>> stamp([1, 2])
[1, 2]
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from nasicon_sim import __version__

__all__ = ["VERSION_KEY", "provenance", "software_line", "stamp", "stamp_json_text"]

#: Key under which the package version is recorded in JSON outputs.
VERSION_KEY = "nasicon_sim_version"

#: Libraries whose versions change numbers (listed in reports when installed).
KEY_LIBRARIES: tuple[str, ...] = ("numpy", "scipy", "pymatgen", "ase", "scikit-learn", "bvlain")


def provenance() -> dict[str, Any]:
    """The package version and the versions of the key libraries installed.

    Returns
    -------
    dict
        ``{"nasicon_sim_version": ..., "libraries": {name: version}}``.
    """
    libs = {}
    for name in KEY_LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {VERSION_KEY: __version__, "libraries": libs}


def software_line() -> str:
    """One line for reports, e.g. ``nasicon-sim 0.1.0 (numpy 2.3.1, scipy 1.17.1, ...)``."""
    libs = provenance()["libraries"]
    return f"nasicon-sim {__version__} (" + ", ".join(f"{k} {v}" for k, v in libs.items()) + ")"


def stamp(obj: Any) -> Any:
    """``obj`` with the package version added: to a dict, or to each dict of a list.

    A dict that already records a version keeps it (a stored result made by an older
    version says so). Other values are returned unchanged.
    """
    if isinstance(obj, dict):
        return obj if VERSION_KEY in obj else {**obj, VERSION_KEY: __version__}
    if isinstance(obj, list):
        return [stamp(item) if isinstance(item, dict) else item for item in obj]
    return obj


def stamp_json_text(text: str) -> str:
    """Re-serialise a printed JSON document with :func:`stamp` applied.

    Text that is not a single JSON document is returned unchanged.
    """
    try:
        obj = json.loads(text)
    except ValueError:
        return text
    stamped = stamp(obj)
    if stamped == obj:
        return text
    return json.dumps(stamped, indent=2, default=str) + "\n"
