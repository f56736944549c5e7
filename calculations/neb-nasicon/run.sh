#!/bin/sh
# Recorded calculation of docs/guide/neb.md: CHGNet CI-NEB of the BVSE network's hops in one
# NZSP and one ME1 configuration (builder, ewald, seed 0), positions relaxed first.
# Resumable: rerun the script; finished hops are kept (--resume).
set -e
cd "$(dirname "$0")"
NS="${NS:-python -m nasicon_sim}"
export OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1
[ -f build/nzsp/conf_000.cif ] || $NS build Na3Zr2Si2PO12 -n 1 --seed 0 -o build/nzsp
[ -f build/me1/conf_000.cif ] || $NS build Na3.5Zr1.0Ti0.5Lu0.5Si2PO12 -n 1 --seed 0 -o build/me1
for c in nzsp me1; do
  [ -f relaxed/$c.cif ] || { mkdir -p relaxed/$c.tmp && \
    $NS relax build/$c/conf_000.cif --fmax 0.1 --threads 1 -o relaxed/$c.tmp --overwrite && \
    mv relaxed/$c.tmp/conf_000.cif relaxed/$c.cif && mv relaxed/$c.tmp/relax.json relaxed/$c.relax.json && \
    rm -rf relaxed/$c.tmp; }
done
for c in nzsp me1; do
  $NS neb relaxed/$c.cif --max-hops ${MAX_HOPS:-3} --images 3 --fmax 0.1 --steps 200 \
    --relax-steps 300 --threads 1 --resume -o $c || true
done
# NZSP's auto list has one Na1-Na3 hop between parent sites only after its interstitial ones:
# name two Na1-Na3 links explicitly (site indices of the relaxed cell's network).
for spec in "3,11 nzsp-na1na3" "link:16 nzsp-na1na3-b"; do
  set -- $spec
  $NS neb relaxed/nzsp.cif --hop $1 --images 3 --fmax 0.1 --steps 200 --relax-steps 300 \
    --threads 1 --resume -o $2 || true
done
# one more ME1 Na1-Na3 link, in a Lu-rich environment (M:Lu2Ti1)
$NS neb relaxed/me1.cif --hop 0,4 --images 3 --fmax 0.1 --steps 200 --relax-steps 300 \
  --threads 1 --resume -o me1-na1na3-lu || true
# the first ME1 Na1-Na3 hop again, finer: 7 images, band to 0.05 eV/A, end points to 0.02 eV/A
# (the 3-image band at 0.1 eV/A had no saddle)
$NS neb relaxed/me1.cif --hop 0,14 --images 7 --fmax 0.05 --relax-fmax 0.02 --steps 400 \
  --relax-steps 500 --threads 1 --resume -o me1-na1na3-fine || true
PYTHONPATH="${PYTHONPATH:-../..}" ${PYTHON:-python} summarize.py
