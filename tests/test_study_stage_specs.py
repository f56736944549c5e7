"""The ``[kmc]`` and ``[neb]`` study tables repeat the fields of the settings classes they feed
(their ``settings_dict`` is hashed into stored task keys, so they are kept as written); these
tests hold each table's fields and defaults to its settings class."""

from __future__ import annotations

from dataclasses import MISSING, fields

import pytest

from nasicon_sim.neb import NEBSettings
from nasicon_sim.study import KMCSpec, NEBSpec
from nasicon_sim.transport import KMCSettings


def _default(f):
    if f.default is not MISSING:
        return f.default
    return f.default_factory()


@pytest.mark.parametrize(("spec", "settings", "own"), [
    (KMCSpec, KMCSettings, {"max_configurations"}),
    (NEBSpec, NEBSettings, {"max_configurations", "max_hops", "label_pairs"}),
])
def test_stage_table_fields_and_defaults_are_the_settings_class(spec, settings, own):
    target = {f.name: f for f in fields(settings)}
    for f in fields(spec):
        if f.name in own:
            continue
        assert f.name in target, f"{spec.__name__}.{f.name} is not a {settings.__name__} field"
        want = _default(target[f.name])
        got = _default(f)
        if isinstance(want, tuple):
            got = tuple(float(x) for x in got)
        assert got == want, f"{spec.__name__}.{f.name} default {got!r} != {want!r}"
    # the default table gives the default settings (a study's NEB never batches images:
    # batching was measured slower on CPU, benchmarks/bench_neb.py)
    defaults = settings()
    made = settings(**spec().settings_dict())
    for name in spec().settings_dict():
        if name != "batch":
            assert getattr(made, name) == getattr(defaults, name), name


def test_stage_table_settings_dict_is_the_stored_key_input():
    """Changing these dicts changes every stored kMC/NEB task key: this pins them."""
    assert KMCSpec().settings_dict() == {
        "temperatures_K": [373.0, 473.0, 573.0], "passes": 1000, "equilibration_passes": 200,
        "runs": 4, "blocks": 25, "seed": 0, "attempt_frequency_Hz": 5e12,
        "interaction_scale": 1.0, "blocking_distance_A": 2.5, "min_length_A": 20.0}
    assert set(NEBSpec().settings_dict()) == {
        "n_images", "spring_eV_A2", "fmax_eV_A", "steps", "climb", "method", "relax_fmax_eV_A",
        "relax_steps", "calculator", "idpp", "batch"}
