#!/bin/bash
# Both torch baselines on this machine, one after the other, then `unetlens bench` against them:
#   sudo bench-reference/run-both.sh OUTDIR [CASE ...]      (root: chrt and the chroot need it)
# torch 1.13.1 is Debian 12's python3-torch on the host; torch 2.6.0 is Debian 13's, in the chroot that
# ../shared/perf/trixie/README.md builds at /tmp/trixie (run through /tmp/trixie-run.sh). Both read OpenBLAS's
# OpenMP build (libopenblas0-openmp, chosen with LD_LIBRARY_PATH): the pthread build, called inside torch's own
# parallel loops (SDPA's flash kernel calls a small sgemm per block from every OpenMP thread), starts its own threads
# on top of torch's, which at 2 cores made SDPA 1×8×4096×40 take 12.9 s instead of 0.17 s.
# Writes OUTDIR/torch113.jsonl, OUTDIR/torch26.jsonl (one line per case) and OUTDIR/unetlens-bench.json, case by
# case (torch 1.13, torch 2.6, unetlens), so that the three figures of a case are minutes apart.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(mkdir -p "$1" && cd "$1" && pwd)"; shift
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(unet_64_b1 unet_64_b2 unet_32_b1 unet_32_b2 vae_decode_64 clip_l_77)
export OMP_WAIT_POLICY=PASSIVE LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
export TRIXIE_BIND="$HERE"

# the script and arguments that time case $1
script_for() { case "$1" in unet_xl_*) echo "torch_unet_xl.py 2 $1" ;; unet_*) echo "torch_unet.py 2 $1" ;;
    vae_*) echo "torch_vae_decode.py 2 $1" ;; clip_*) echo torch_clip.py 2 ;; esac; }

cd "$HERE"
: > "$OUT/torch113.jsonl"; : > "$OUT/torch26.jsonl"
for c in "${CASES[@]}"; do                  # case by case, the three side by side: the load drifts less between them
    # shellcheck disable=SC2046
    chrt -f 1 /usr/bin/python3 $(script_for "$c") | tee -a "$OUT/torch113.jsonl"
    # shellcheck disable=SC2046
    chrt -f 1 /tmp/trixie-run.sh --cd "$HERE" $(script_for "$c") | tee -a "$OUT/torch26.jsonl"
    LD_LIBRARY_PATH= UNETLENS_THREADS=2 chrt -f 1 "$HERE/../unetlens" bench --threads 2 --cases "$c" \
        --reference "$OUT/torch113.jsonl" --reference "$OUT/torch26.jsonl" --json "$OUT/bench-$c.json" > /dev/null
done
# one document: the first case's header, every case's result
python3 - "$OUT" "${CASES[@]}" <<'PY'
import json, sys
out, cases = sys.argv[1], sys.argv[2:]
docs = [json.load(open(f"{out}/bench-{c}.json")) for c in cases]
merged = docs[0] | {"cases": [d["cases"][0] for d in docs]}
json.dump(merged, open(f"{out}/unetlens-bench.json", "w"), indent=2)
PY
rm -f "$OUT"/bench-*.json
