#!/usr/bin/env bash
# Benchmark of `amlops-lint check` on a generated repository of 10,000 files and 1,000 commits.
# Targets: < 1 s warm for the working tree (--no-history), < 5 s with history.
#
# usage: bench/lint/run.sh [path/to/amlops-lint] [work dir]
# The repository is generated once (git fast-import) into the work dir and reused.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$here/build/bin/amlops-lint}"
work="${2:-${TMPDIR:-/tmp}/amlops-lint-bench}"
files=10000
commits=1000
runs=5
[ -x "$bin" ] || { echo "bench: $bin not found (build the amlops-lint target first)" >&2; exit 2; }

repo="$work/repo"
if [ ! -f "$work/.done-$files-$commits" ]; then
  rm -rf "$work" && mkdir -p "$repo"
  git -C "$repo" init -q -b main
  echo "bench: generating $files files and $commits commits in $repo" >&2
  /usr/bin/python3 - "$files" "$commits" <<'PY' | git -C "$repo" fast-import --quiet
import random, sys
files, commits = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(42)
def py(i):
    return ("import argparse\nimport pandas as pd\n\n\ndef main():\n    p = argparse.ArgumentParser()\n"
            "    p.add_argument('--data')\n    p.add_argument('--lr', type=float, default=0.%d)\n"
            "    a = p.parse_args()\n    df = pd.read_csv(a.data)\n" % (i % 97)
            + "".join("    x%d = df['c%d'].mean() * %d\n" % (k, k, i) for k in range(40))
            + "\n\nif __name__ == '__main__':\n    main()\n")
def yml(i):
    return ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ntype: command\n"
            "code: ../../src/pkg%03d\ncommand: python train_%d.py --data ${{inputs.data}} --lr 0.1\ninputs:\n  data:\n"
            "    type: uri_folder\n    path: azureml://datastores/blob/paths/d%d\nenvironment: azureml:env:%d\n"
            % ((i - 5) // 100, i - 5, i, i % 9 + 1))
def csv(i):
    return "a,b,c,d\n" + "".join("%d,%d,%d,%d\n" % (k, k * i % 101, k * 7 % 13, i) for k in range(60))
def md(i):
    return ("# Note %d\n\n" % i) + ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20) + "\n"
def content(i, rev):
    kind = i % 10
    if kind < 5: return "src/pkg%03d/train_%d.py" % (i // 100, i), py(i + rev)
    if kind < 6: return "jobs/group%02d/job_%d.yml" % (i // 500, i), yml(i)
    if kind < 8: return "data/part%03d/sample_%d.csv" % (i // 200, i), csv(i + rev)
    return "docs/sec%03d/note_%d.md" % (i // 250, i), md(i + rev)
out = sys.stdout.buffer
mark = 0
def blob(text):
    global mark
    mark += 1
    b = text.encode()
    out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(b)) + b + b"\n")
    return mark
t = 1700000000
for c in range(commits):
    if c == 0:
        changes = [(i, 0) for i in range(files)]
    else:
        changes = [(rnd.randrange(files), c) for _ in range(10)]
    marks = [(content(i, rev)[0], blob(content(i, rev)[1])) for i, rev in changes]
    msg = b"commit %d\n" % c
    out.write(b"commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s" % (t + c * 60, len(msg), msg))
    for path, m in marks:
        out.write(b"M 100644 :%d %s\n" % (m, path.encode()))
    out.write(b"\n")
PY
  git -C "$repo" reset -q --hard main
  touch "$work/.done-$files-$commits"
fi

n_files=$(git -C "$repo" ls-files | wc -l)
n_commits=$(git -C "$repo" rev-list --count HEAD)

# Median wall time of $runs warm runs (one untimed run first warms the page cache).
measure() {
  "$bin" check "$repo" "$@" --fail-on never --quiet >/dev/null
  local times=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N)
    "$bin" check "$repo" "$@" --fail-on never --quiet >/dev/null
    e=$(date +%s.%N)
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

tree=$(measure --no-history)
hist=$(measure)
summary=$("$bin" check "$repo" --fail-on never | tail -1)
printf 'repository: %s files, %s commits (%s)\n' "$n_files" "$n_commits" "$repo"
printf 'last run:   %s\n' "$summary"
printf '%-28s %8.3f s   target < 1 s   %s\n' "working tree (--no-history)" "$tree" "$(awk -v t="$tree" 'BEGIN { print (t < 1 ? "ok" : "MISSED") }')"
printf '%-28s %8.3f s   target < 5 s   %s\n' "with history" "$hist" "$(awk -v t="$hist" 'BEGIN { print (t < 5 ? "ok" : "MISSED") }')"
