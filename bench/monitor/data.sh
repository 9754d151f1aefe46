# Sourced by bench/monitor/run.sh and jsonl.sh: the arguments [BUILD_DIR] [ROWS], amlops-monitor,
# and the generated reference/current CSVs of ROWS rows (10 numeric + 2 categorical columns) in
# $DATA, made once and kept (BENCH_DATA overrides the folder). Sets HERE, BUILD, ROWS, BIN, DATA.
HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
BUILD=${1:-$HERE/../../build}
ROWS=${2:-1000000}
BIN=$BUILD/bin/amlops-monitor
DATA=${BENCH_DATA:-/tmp/amlops-bench-monitor-$ROWS}
[ -x "$BIN" ] || { echo "build amlops-monitor first ($BIN)"; exit 2; }
mkdir -p "$DATA"
if [ ! -s "$DATA/current.csv" ]; then
  echo "generating $ROWS rows x 10 numeric + 2 categorical (reference, current) in $DATA ..."
  /usr/bin/python3 "$HERE/gen.py" "$DATA" "$ROWS"
fi
