"""Oxidation-state assignment: bounded rank-by-rank search vs the full enumeration.

Both sides choose, for Na3 M2 Si2P O12 with k multivalent M cations (2/k each, from Ti Sn Nb V
Cr Mo W Mn Fe Co Ni Cu Pb Ce Pr Eu Tb Yb Bi), the neutral assignment of smallest rank (sum of
table positions):

* ours: ``nasicon_sim.composition._assign_oxidation_states`` (the code ``parse_nasicon`` runs);
* reference: ``itertools.product`` over every combination (what version 0.1.0 did), here
  written out independently.

The script checks that both choose the same states, and prints medians over repeats and the
ratio reference / ours. The reference is skipped above ``--max-reference`` cations (it grows
as the product of the numbers of states: 3^19 ~ 1e9 combinations for 19).

Run: ``.venv/bin/python benchmarks/bench_oxidation_search.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

from nasicon_sim.composition import (
    CHARGE_TOLERANCE,
    _assign_oxidation_states,
    oxidation_state_table,
)

ELEMENTS = "Ti Sn Nb V Cr Mo W Mn Fe Co Ni Cu Pb Ce Pr Eu Tb Yb Bi".split()
T_SITE = {"Si": 2.0, "P": 1.0}


def reference(na: float, m_site: dict[str, float]) -> dict[str, int] | None:
    table = oxidation_state_table()
    elements = list(m_site)
    t_charge = sum(a * table[el][0] for el, a in T_SITE.items())
    best = None
    for combo in itertools.product(*[range(len(table[el])) for el in elements]):
        q = na + t_charge - 24 + sum(m_site[el] * table[el][k] for el, k in zip(elements, combo))
        if abs(q) <= CHARGE_TOLERANCE and (best is None or sum(combo) < best[0]):
            best = (sum(combo), {el: table[el][k] for el, k in zip(elements, combo)})
    return None if best is None else best[1]


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-reference", type=int, default=14)
    args = parser.parse_args()
    print(f"{'k':>3} {'combinations':>13} {'ours (s)':>10} {'reference (s)':>14} {'ratio':>8}")
    table = oxidation_state_table()
    for k in (6, 8, 10, 12, 14, 16, 19):
        m_site = {el: round(2.0 / k, 6) for el in ELEMENTS[:k]}
        n_comb = 1
        for el in m_site:
            n_comb *= len(table[el])
        t_ours, (states, _) = median_time(
            lambda m=m_site: _assign_oxidation_states(3.0, m, T_SITE, {}, "bench"), args.repeats)
        if k <= args.max_reference:
            t_ref, ref = median_time(lambda m=m_site: reference(3.0, m), 1)
            assert ref == {el: states[el] for el in m_site}, (k, ref, states)
            print(f"{k:>3} {n_comb:>13} {t_ours:>10.4f} {t_ref:>14.3f} {t_ref / t_ours:>8.0f}")
        else:
            print(f"{k:>3} {n_comb:>13} {t_ours:>10.4f} {'(skipped)':>14} {'':>8}")


if __name__ == "__main__":
    main()
