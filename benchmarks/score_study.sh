#!/usr/bin/env bash
# Score one model of study #33 on its four question sets, default 8 candidates, Q8_0:
#   dev       the 479 validation questions (../shared/data/spider/dev.json)
#   dev-syn   the same in Spider-Syn's wording (dev_syn.json)
#   heldout   the held-out training databases' 571 questions (configs/heldout-databases.txt)
#   heldout-syn  the same in Spider-Syn's wording
# Each goes to OUT/<set>/ (predictions.jsonl, metrics.json, report.md); a rerun resumes.
# The arms are compared on the whole schema (--link-schema off) unless the flags say else.
# Run: bash benchmarks/score_study.sh MODEL OUT [extra predict flags, e.g. --link-schema on]
set -euo pipefail
model=$1 out=$2
shift 2
spider=../shared/data/spider
bin=${VENV:-.venv}/bin
declare -A data=(
  [dev]="$spider/dev.json"
  [dev-syn]="$spider/dev_syn.json"
  [heldout]="$spider/train.json --only-databases configs/heldout-databases.txt"
  [heldout-syn]="$spider/train_syn.json --only-databases configs/heldout-databases.txt"
)
for set in ${SETS:-dev dev-syn heldout heldout-syn}; do
  # shellcheck disable=SC2086  # the set's data is a path and its flags
  "$bin/smolsql" predict --model "$model" --data ${data[$set]} --out "$out/$set" --link-schema off "$@"
  "$bin/smolsql" eval "$out/$set"
done
