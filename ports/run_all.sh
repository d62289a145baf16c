#!/bin/bash
# Runs every step of the port checklist on one .sbl file; outputs go to ports/out/NAME/.
# Usage: ports/run_all.sh ports/NAME.sbl
f=$1; n=$(basename "$f" .sbl); o=ports/out/$n; mkdir -p "$o"
step() { echo "### $*"; "$@"; echo "[rc=$?]"; }
{
step sbl check "$f"
step sbl fmt --check "$f"
step sbl compile "$f" -o "$o/page.html"
step sbl compile "$f" --emit transcript
step sbl run "$f" -p random:1 -o "$o/run.csv"
step sbl simulate "$f" --model random -n 3 -o "$o/sim.csv"
step timeout 300 sbl pilot "$f" -n 2 -o "$o/pilot.json"
step sbl data "$o/pilot.json" -o "$o/pilot_tidy.csv"
step sbl compare "$o/pilot.json" "$o/sim.csv" -l people -l random
} > "$o/log.txt" 2>&1
grep -E '^###|^\[rc' "$o/log.txt" | paste - - | awk '{print $NF, $0}' | cut -c1-120
