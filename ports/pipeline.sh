#!/bin/bash
# Runs every step the task asks on one port: check, fmt, compile, a text run, pilot, data, compare.
# Usage: ports/pipeline.sh ports/NAME.sbl   (logs in ports/out/NAME/)
f=$1; n=$(basename $f .sbl); o=ports/out/$n; mkdir -p $o
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
step() { echo "--- $*"; "$@"; echo "[rc=$?]"; }
{
step sbl check $f
step sbl fmt --check $f
step sbl compile $f -o $o/page.html
step sbl compile $f --emit transcript
step sbl run $f -p random:1 -o $o/text.csv
step sbl run $f -p random -n 3 -o $o/text3.csv
step timeout 300 sbl pilot $f -n 2 -o $o/pilot.json
step sbl data $o/pilot.json -o $o/pilot.csv
step sbl compare $o/pilot.json $o/text3.csv -l people -l random -o $o/report
} > $o/log.txt 2>&1
grep -c 'rc=0' $o/log.txt; grep -B1 'rc=[1-9]' $o/log.txt | head
