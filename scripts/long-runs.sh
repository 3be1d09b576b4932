#!/usr/bin/env bash
# Issue 15's long runs (docs/PROXY.md, docs/DISCOVERY.md), one training at a time on 2 threads,
# resumable on a fresh clone of this repository: run it from the main checkout,
#
#   nohup bash scripts/long-runs.sh > runs/long-runs.log 2>&1 &
#
# and run it again in the next session, on whatever machine; it goes on where the last one stopped.
# It runs scripts/setup.sh first (as root on a fresh machine: apt, npm ci, the addon build).
#   - Each step runs from a frozen worktree of its own commit (in $LR_WT, default ../wt), because a
#     search resumes only on the src/ it started with and the proxy study compares runs of one code;
#     results are written into this checkout's results/ and docs/.
#   - A commit loop (every 5 minutes) dumps each search journal in use (results/discovery/**/run/
#     journal.sqlite, kept out of git) to journal.resume.jsonl beside its run folder
#     (scripts/journal-text.ts), regenerates docs/PROXY.md and docs/DISCOVERY.md from the result
#     files with this checkout's scripts, and commits results/ and those docs (nothing else).
#   - At the start, a finished search's committed journal copy (results/discovery/<name>/journal.sqlite)
#     is copied into its run folder when that has no journal; then a journal.resume.jsonl whose run
#     folder has no journal is restored into it, so the search resumes from its last finished
#     evaluation (the evaluation that was running is trained again, from the start).
# The queue, each step skipped once its results exist (the scripts themselves skip finished runs):
#   1. the S2 proxy study, the full-schedule seeds >= 1 of the default and the published half
#      left to the S2 search (--defer-to-search);
#   2. the S2 search with its final evaluation, confirm and transfer: only when the study chose the
#      proxy of configs/discovery-s2.yaml at the search's commit with tau >= 0.6 (else exit 3: set
#      the chosen proxy in that config, commit, and set SEARCH_COMMIT below to that commit);
#   2r. S2's retrain check: the retrain command docs/DISCOVERY.md prints for its winner's seed-0
#      run, run for real with this checkout's code (results-discovery.ts --retrain; about 25 min),
#      so that the docs compare its AP with the final's to the last bit, as they do for S1;
#   3. the S2 study again, taking those seeds from the search's journal;
#   4. early stopping measured on S2 (issue 15, item 5): its first 3 generations again with
#      configs/discovery.yaml's earlyStop, same seed, and again without it (the search's own proxy
#      trainings recorded no machine, and training is bit-identical on one machine only), the two
#      compared (about 40 min each on the machine of 2026-12-02); an arm trained on another machine
#      is set aside and trained again, so that both arms share the machine of the session;
#   5. the efficiency runs on S1 (3 seeds x {cse, vanilla}, each stopping at the default);
#   6. the demo's proxy study;
#   7. S2b (configs/discovery-s2b.yaml: S2 again with another seed and a population of 1000), with
#      its final evaluation, confirm and transfer: only when S2 missed its target (docs/DISCOVERY.md
#      says so once S2's final evaluation is in; before that the step waits for the next session).
# Environment: LR_WT (worktrees), LR_STEPS (e.g. "5 6": run only these steps; "": none, only restore,
# dump and commit), LR_NO_COMMIT=1 (dump and collect, commit nothing).
# Never run `npm ci` (nor scripts/setup.sh) in a worktree: its node_modules is a link to this
# checkout's, which npm would empty.
set -uo pipefail
cd "$(dirname "$0")/.."
M=$(pwd)
export CSE_THREADS=2
STUDY_COMMIT=c71f6d95128152fe06c77e888b89f9788749e6fc   # the S2 study's first 31 runs
SEARCH_COMMIT=85f2360                                   # the S2 search (src/ as at ef161f5)
# the efficiency runs and the demo study: src/ trains as at SEARCH_COMMIT (its later changes: provenance,
# the report, --retrain-final, proxy.earlyStop's default twin, unused here), each detector training
# records its machine (metrics.machine, provenance cpuId), and an unfinished efficiency run begun on
# another machine is set aside and started again; 6a6aaf1 (src/ as at a2b0fd9): the S1 search's first generations
# stand in for cse seed 0 only when they trained on this machine (they recorded none: it trains here)
EFF_COMMIT=6a6aaf1
ES_COMMIT=d89d749   # S2's early-stopping twins, with and without (their driver and src/; the arm without early stopping trains the same at 63df393)
S2B_COMMIT=10b0a95   # the S2b search (its config and src/)
WT=${LR_WT:-$M/../wt}
STEPS=${LR_STEPS-1 2 2r 3 4 5 6 7}
log() { echo "long-runs: $* ($(date -u +%FT%TZ))" >&2; }

frozen() { # NAME COMMIT: a worktree at COMMIT sharing this checkout's node_modules and addon build
  local dir=$WT/$1
  if [ ! -e "$dir/.git" ]; then
    mkdir -p "$WT"
    git worktree prune
    git worktree add --detach "$dir" "$2" >/dev/null || return 1
  fi
  if [ "$(git -C "$dir" rev-parse HEAD)" != "$(git rev-parse "$2")" ]; then
    # e.g. SEARCH_COMMIT moved to a commit with another proxy in configs/: follow it if nothing there was edited
    [ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] && git -C "$dir" checkout -q --detach "$2" \
      || { log "$dir is not at $2 and could not be moved there"; return 1; }
    log "moved $dir to $2"
  fi
  ln -sfn "$M/node_modules" "$dir/node_modules"
  # the configs' data/ (made on first use) is shared: generated once per machine
  mkdir -p "$M/data" && { [ -L "$dir/data" ] || [ ! -e "$dir/data" ]; } && ln -sfn "$M/data" "$dir/data"
  rm -rf "$dir/build" && cp -a "$M/build" "$dir/build"
  (cd "$dir" && node scripts/build.mjs >/dev/null) || return 1
  echo "$dir"
}

dump_journals() {
  local j d
  while IFS= read -r j; do
    d=$(dirname "$(dirname "$j")")
    node --import tsx scripts/journal-text.ts dump "$(dirname "$j")" "$d/journal.resume.jsonl" >/dev/null \
      || log "could not dump $j"
  done < <(find results/discovery -path '*/run/journal.sqlite' 2>/dev/null | sort)
}

restore_journals() {
  local f d
  # a finished search's committed journal copy (<name>/journal.sqlite) first: the very file the collect
  # copies back (a journal restored from text has other bytes, and git would see it change)
  while IFS= read -r f; do
    d=$(dirname "$f")/run
    if [ ! -f "$d/journal.sqlite" ]; then
      mkdir -p "$d" && cp "$f" "$d/journal.sqlite" && log "restored $d/journal.sqlite from $f"
    fi
  done < <(find results/discovery -mindepth 2 -maxdepth 2 -name journal.sqlite 2>/dev/null | sort)
  # then a search in progress (or one whose copy was left out, over 20 MB), from its text dump
  while IFS= read -r f; do
    d=$(dirname "$f")/run
    if [ ! -f "$d/journal.sqlite" ]; then
      node --import tsx scripts/journal-text.ts restore "$f" "$d" && log "restored $d/journal.sqlite from $f"
    fi
  done < <(find results/discovery -name journal.resume.jsonl 2>/dev/null | sort)
}

# One commit of what landed: new proxy-study runs by name and AP, the searches' progress.
commit_results() {
  dump_journals
  local changed
  changed=$(git status --porcelain --untracked-files=all -- results/proxy results/discovery | awk '{print $2}')
  [ -n "$changed" ] || return 0
  node --import tsx scripts/results-proxy.ts --collect-only >/tmp/long-runs-collect.log 2>&1 \
    || { log "results-proxy --collect-only failed: $(tail -1 /tmp/long-runs-collect.log)"; return 0; }
  node --import tsx scripts/results-discovery.ts --collect-only --efficiency S1 >>/tmp/long-runs-collect.log 2>&1 \
    || { log "results-discovery --collect-only failed: $(tail -1 /tmp/long-runs-collect.log)"; return 0; }
  # name what is staged, not what was seen before the collect: a run may land meanwhile
  git add -- results/proxy results/discovery docs/PROXY.md docs/DISCOVERY.md docs/img/discovery 2>/dev/null
  changed=$(git diff --cached --name-only -- results/proxy results/discovery)
  local parts="" f s n
  for f in $(echo "$changed" | grep '^results/proxy/.*/.*/.*\.json$'); do
    s=$(node -e "const d=JSON.parse(require('fs').readFileSync('$f','utf8'));console.log(d.status==='ok'&&d.AP!=null?(d.AP*100).toFixed(1):d.status)")
    f=${f#results/proxy/}; parts="$parts ${f%.json} $s,"
  done
  if [ -n "$parts" ]; then # "S2 33 of 82 runs" for each setting with a new run, from docs/PROXY.md's sections
    n=$(awk -v want="$(echo "$changed" | grep -o '^results/proxy/[^/]*/' | cut -d/ -f3 | sort -u | paste -sd' ')" '
      /^### / { sub(/^### /, ""); sub(/:.*/, ""); sec = $0 }
      / of [0-9]+ runs finished/ && index(" " want " ", " " sec " ") { match($0, /[0-9]+ of [0-9]+ runs/); out = out (out ? ", " : "") sec " " substr($0, RSTART, RLENGTH) }
      END { print out }' docs/PROXY.md)
    parts="proxy study ($n):${parts%,};"
  fi
  for f in $(echo "$changed" | grep 'journal.resume.jsonl$'); do
    s=$(node -e "
      const lines=require('fs').readFileSync('$f','utf8').split('\n').filter(Boolean).map((l)=>JSON.parse(l));
      const rows=(t)=>lines.filter((x)=>x.t===t);
      const st=rows('results').map((x)=>x.r[1]);
      console.log(rows('generations').length+' generations, '+st.filter((x)=>x==='proxy').length+' proxy, '+st.filter((x)=>x==='final').length+' final results')")
    f=${f#results/discovery/}; parts="$parts ${f%/journal.resume.jsonl} journal: $s;"
  done
  for f in $(echo "$changed" | grep -E '^results/discovery/.*(metrics|summary)\.json$|/final/' | grep -v '^results/discovery/summary.json$'); do
    parts="$parts ${f#results/discovery/},"
  done
  # nothing new landed, the collect rewrote a file (e.g. summary.json's provenance): say which
  [ -n "$parts" ] || parts=" $(git diff --cached --name-only -- results/proxy results/discovery docs | paste -sd' ') rewritten by the collect"
  [ -n "${LR_NO_COMMIT:-}" ] && { git reset -q -- results docs; log "would commit:${parts%[,;]}"; return 0; }
  git commit -q -m "results (long runs):${parts%[,;]}" -- results/proxy results/discovery docs/PROXY.md docs/DISCOVERY.md docs/img/discovery \
    && log "committed:${parts%[,;]}"
}

commit_loop() {
  while true; do
    sleep 300
    commit_results
  done
}

# One line per start in results/discovery/machines.jsonl: the recorded CPU string ("AMD EPYC") does
# not tell machines apart, and training is bit-identical only on one machine (S2's default, seed 0,
# gave AP 59.1 in the study and 57.7 in the search's final, same code and recorded environment, in
# two sessions). With these lines a run's finish time (journal finished_at) maps to the machine;
# machineKey is src/util/provenance.ts's key of machineId(), which detector trainings of code from
# 5b848dd on record in their metrics (metrics.machine, printed as 12 hex digits).
record_machine() {
  local f=results/discovery/machines.jsonl core key
  field() { awk -F': *' -v k="$1" '$1 ~ "^"k"[ \t]*$" { print $2; exit }' /proc/cpuinfo; }
  core=$(OPENBLAS_VERBOSE=2 node -e 'require("./build/Release/torch_addon.node")' 2>&1 | sed -n 's/^Core: //p' | head -1)
  key=$(node --import tsx -e 'import("./src/util/provenance.ts").then((m) => { const id = m.machineId(); process.stdout.write(id ? m.machineKeyText(m.machineKey(id)) : ""); })' 2>/dev/null)
  mkdir -p results/discovery
  printf '{"startedAt":"%s","cpu":"%s","family":"%s","model":"%s","stepping":"%s","microcode":"%s","flags":"%s","cores":%s,"openblasCore":"%s","machineKey":"%s","commit":"%s"}\n' \
    "$(date -u +%FT%TZ)" "$(field 'model name')" "$(field 'cpu family')" "$(field model)" "$(field stepping)" \
    "$(field microcode)" "$(field flags | md5sum | cut -c1-12)" "$(nproc)" "$core" "$key" "$(git rev-parse --short HEAD)" >>"$f"
  log "machine: $(tail -1 "$f")"
}

want() { [[ " $STEPS " == *" $1 "* ]]; }

bash scripts/setup.sh || { log "set-up failed"; exit 1; }
restore_journals
record_machine
commit_loop &
loop=$!
trap 'kill $loop 2>/dev/null; commit_results' EXIT
trap 'exit 130' INT TERM

# step N WORKTREE COMMIT WHAT SCRIPT ARGS...: runs scripts/SCRIPT from the frozen worktree, results into this checkout
step() {
  local n=$1 name=$2 commit=$3 what=$4 script=$5 S rc
  shift 5
  want "$n" || return 0
  S=$(frozen "$name" "$commit") || exit 1
  log "$n: $what, from $S"
  (cd "$S" && node --import tsx "scripts/$script" "$@" --root "$M/results") || { rc=$?; log "$n: exit $rc"; exit $rc; }
  commit_results
}

# step 2 only with the proxy the S2 study chose
s2_proxy_checked() {
  want 2 || return 0
  local S choice configured
  S=$(frozen search $SEARCH_COMMIT) || exit 1
  choice=$(node -e "
    const s=JSON.parse(require('fs').readFileSync('$M/results/proxy/summary.json','utf8')).S2;
    console.log(s&&s.meetsTarget?s.chosen:'none')")
  configured=$(node -e "
    const y=require('$M/node_modules/yaml');const c=y.parse(require('fs').readFileSync('$S/configs/discovery-s2.yaml','utf8'));
    const t=c.proxy.task;console.log('p'+t.iters+'-'+t.inputSize+(t.trainSubset?'-n'+t.trainSubset:''))")
  if [ "$choice" != "$configured" ]; then
    log "2: the S2 study chose '$choice' (none: no proxy with tau >= 0.6 yet); configs/discovery-s2.yaml at $SEARCH_COMMIT has $configured: set it, commit, point SEARCH_COMMIT there"
    exit 3
  fi
}

step 1 s2study $STUDY_COMMIT "S2 proxy study, deferring to the search" results-proxy.ts --settings S2 --defer-to-search --out "$M/docs/PROXY.md"
s2_proxy_checked
step 2 search $SEARCH_COMMIT "S2 search" results-discovery.ts --settings S2 --out "$M/docs/DISCOVERY.md"
# 2r from this checkout, not a frozen worktree: the check is that the code a user runs now gives the final's bits
if want 2r; then
  log "2r: S2's retrain check, from $M"
  node --import tsx scripts/results-discovery.ts --settings S2 --retrain --out "$M/docs/DISCOVERY.md" --root "$M/results" \
    || { rc=$?; log "2r: exit $rc"; exit $rc; }
  commit_results
fi
step 3 s2study $STUDY_COMMIT "S2 proxy study, the seeds from the search" results-proxy.ts --settings S2 --out "$M/docs/PROXY.md"
step 4 s2es $ES_COMMIT "early stopping measured on S2" results-discovery.ts --settings S2 --early-stop S2 --out "$M/docs/DISCOVERY.md"
step 5 eff $EFF_COMMIT "efficiency runs on S1" results-discovery.ts --settings S1 --efficiency S1 --out "$M/docs/DISCOVERY.md"
step 6 eff $EFF_COMMIT "the demo's proxy study" results-proxy.ts --settings demo --out "$M/docs/PROXY.md"
# step 7 only once S2's verdict is in, and only when it missed the target
if want 7; then
  if grep -q '^- \*\*S2\*\* .*\*\*Target met\*\*' docs/DISCOVERY.md; then
    log "7: S2 met its target (docs/DISCOVERY.md): S2b is not run"
  elif grep -q '^- \*\*S2\*\* .*\*\*Target missed\*\*' docs/DISCOVERY.md || [ -d results/discovery/S2b/run ]; then
    step 7 s2b $S2B_COMMIT "S2b search (S2 again: seed 1, population 1000)" results-discovery.ts --settings S2b --out "$M/docs/DISCOVERY.md"
  else
    log "7: S2's verdict is not in docs/DISCOVERY.md yet: S2b waits"
  fi
fi
log "all steps done"
