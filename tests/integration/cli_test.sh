#!/bin/bash
# The command-line conventions on the real binaries: completion scripts (bash: completion results;
# zsh: parsed and loaded), exit codes in every tool's and subcommand's --help, `help TOOL SUB`,
# "did you mean", repeated -v, and -o/-f meaning --output/--file everywhere; completion across processes
# (amlops-<tool> --amlops-describe) with a tool missing or found on PATH only.
set -u
BIN=$1
WORK=$2
[ -x "$BIN/amlops" ] || { echo "skip: $BIN/amlops not built"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 2
fails=0
check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
}
A="$BIN/amlops"

# bash: source the generated script and ask it what it completes.
"$A" completion bash > amlops.bash || { echo "FAIL - amlops completion bash"; exit 1; }
complete_words() {  # complete_words WORD... (the last one is being completed)
  bash -c 'source ./amlops.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _amlops; printf "%s\n" "${COMPREPLY[@]}"' \
    complete "$@"
}
check "bash: 'amlops job su' completes to submit" test "$(complete_words amlops job su)" = submit
check "bash: 'amlops-job sub' completes to submit" test "$(complete_words amlops-job sub)" = submit
check "bash: 'amlops job submit --fi' completes to --file" test "$(complete_words amlops job submit --fi)" = --file
check "bash: 'amlops lint check --fo' completes to --format" \
  test "$(complete_words amlops lint check --fo)" = --format
check "bash: value of -o is text or json" test "$(complete_words amlops job show -o '' | tr '\n' ' ')" = "text json "
check "bash: an option's value is skipped ('-f job.yml' then options of submit)" \
  test "$(complete_words amlops job submit -f job.yml --wa)" = --wait
check "bash: 'amlops help mo' completes tools" test "$(complete_words amlops help mo | tr '\n' ' ')" = "model monitor "
check "bash: 'amlops d' completes tools and the umbrella's own commands" \
  test "$(complete_words amlops d | tr '\n' ' ')" = "deploy doctor "
check "bash: 'amlops in' completes the umbrella's init" test "$(complete_words amlops in)" = init
check "bash: every amlops-<tool> is registered" bash -c 'source ./amlops.bash; for t in job lint local model monitor promote report deploy setup; do
  [ -x "'"$BIN"'/amlops-$t" ] || continue; complete -p amlops-$t >/dev/null || exit 1; done'

# Completion across processes: each amlops-<tool> describes itself (--amlops-describe, JSON).
if [ -x "$BIN/amlops-job" ]; then
  check "amlops-job --amlops-describe prints the command tree as JSON" python3 -c 'import json, subprocess, sys
d = json.loads(subprocess.run([sys.argv[1], "--amlops-describe"], capture_output=True, check=True).stdout)
submit = [c for c in d["commands"] if c["name"] == "submit"][0]
sys.exit(0 if d["amlops_describe"] == 1 and any(o["long"] == "file" and o["short"] == "f" and o["value"]
                                                for o in submit["options"]) else 1)' "$BIN/amlops-job"
fi
# The umbrella alone (PATH empty): tools are completed by name only, with a note per tool on stderr.
mkdir -p alone onpath
cp "$A" alone/amlops
env PATH= alone/amlops completion bash > alone.bash 2> alone.err; rc=$?
check "amlops completion bash without the tool binaries exits 0" test "$rc" = 0
check "... notes on stderr that amlops-job is completed by name only" \
  grep -q "amlops-job is not installed: .*'job' is completed by name only" alone.err
alone_words() { bash -c 'source ./alone.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _amlops; printf "%s\n" "${COMPREPLY[@]}"' \
  complete "$@"; }
check "... 'amlops jo' still completes to job" test "$(alone_words amlops jo)" = job
check "... 'amlops job su' completes nothing (no subcommands known)" test -z "$(alone_words amlops job su)"
# A tool found on PATH only is described from there.
if [ -x "$BIN/amlops-lint" ]; then
  cp "$BIN/amlops-lint" onpath/
  env PATH="$WORK/onpath" alone/amlops completion bash > onpath.bash 2> onpath.err
  check "amlops-lint on PATH only: 'amlops lint ch' completes to check" \
    test "$(bash -c 'source ./onpath.bash; COMP_WORDS=(amlops lint ch); COMP_CWORD=2; _amlops; echo "${COMPREPLY[@]}"')" = check
  check "... and no note for lint" bash -c '! grep -q "amlops-lint is not installed" onpath.err'
fi

# zsh: the script parses and, loaded after compinit, registers every program and knows the tree.
if command -v zsh >/dev/null; then
  "$A" completion zsh > _amlops || { echo "FAIL - amlops completion zsh"; exit 1; }
  check "zsh: the script parses (zsh -n)" zsh -n _amlops
  check "zsh: loaded after compinit, it completes amlops-job and lists job's subcommands" \
    env HOME="$WORK" zsh -fc 'autoload -U compinit; compinit -u -d ./zcompdump; source ./_amlops
      [[ $_comps[amlops-job] == _amlops ]] || exit 1; _amlops_commands job; (( ${reply[(I)submit:*]} ))'
else
  echo "skip - zsh not installed (apt-get install zsh)"
fi

# Every tool and subcommand the completion knows lists the exit codes in its --help.
tools=$(bash -c 'source ./amlops.bash; _amlops_commands ""')
for t in $tools; do
  [ "$t" = help ] && continue
  out=$("$A" "$t" --help 2>&1)
  check "amlops $t --help exits 0 and lists exit codes 0-4 and 130" \
    bash -c '[[ $1 == *"Exit codes:"* && $1 == *"  2    usage"* && $1 == *"  130  interrupted"* ]]' _ "$out"
  for s in $(bash -c 'source ./amlops.bash; _amlops_commands "$1"' _ "$t"); do
    [ "$s" = help ] && continue
    out=$("$A" "$t" "$s" --help 2>&1)
    check "amlops $t $s --help lists the exit codes" \
      bash -c '[[ $1 == *"Exit codes:"* && $1 == *"  3    timed out"* && $1 == *"  130  interrupted"* ]]' _ "$out"
    check "amlops help $t $s == amlops $t $s --help" test "$("$A" help "$t" "$s" 2>&1)" = "$out"
    # -o is --output and -f is --file wherever they exist.
    o=$(grep -o -- '-o \[ --[a-z-]* \]' <<<"$out")
    check "amlops $t $s: -o means --output" test -z "$o" -o "$o" = "-o [ --output ]"
    f=$(grep -o -- '-f \[ --[a-z-]* \]' <<<"$out")
    check "amlops $t $s: -f means --file" test -z "$f" -o "$f" = "-f [ --file ]"
  done
done
if [ -x "$BIN/amlops-job" ]; then
  out=$("$BIN/amlops-job" --help 2>&1)
  check "amlops-job --help lists exit codes" bash -c '[[ $1 == *"  130  interrupted"* ]]' _ "$out"
fi

# did you mean: exit 2 and the suggestion.
if [ -x "$BIN/amlops-job" ]; then
  "$BIN/amlops-job" submt > out.txt 2> err.txt; rc=$?
  check "amlops-job submt exits 2" test "$rc" = 2
  check "amlops-job submt suggests submit" grep -q "unknown command 'submt'; did you mean 'submit'?" err.txt
fi
"$A" jb > out.txt 2> err.txt; rc=$?
check "amlops jb exits 2 and suggests job" bash -c '[ "$1" = 2 ] && grep -q "did you mean '"'job'"'?" err.txt' _ "$rc"
"$A" help lnt > out.txt 2> err.txt; rc=$?
check "amlops help lnt exits 2 and suggests lint" bash -c '[ "$1" = 2 ] && grep -q "did you mean '"'lint'"'?" err.txt' _ "$rc"

# Repeated -v is accepted; -f is no longer --format for amlops-lint.
check "amlops lint rules -v -v exits 0" bash -c '"$1" lint rules -v -v >/dev/null 2>&1' _ "$A"
check "amlops lint rules -vv exits 0" bash -c '"$1" lint rules -vv >/dev/null 2>&1' _ "$A"
"$A" lint check -f json . > out.txt 2> err.txt; rc=$?
check "amlops lint check -f json is a usage error (exit 2)" test "$rc" = 2

echo "$fails failure(s)"
[ "$fails" = 0 ]
