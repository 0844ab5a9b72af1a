#!/usr/bin/env bash
# The long-memory task (bench/LongMemory/README.md): LSTM vs GRU vs plain RNN at about equal parameter counts on
# the a/b streams, trained with `rnn train --task regress`; their held-out error curves in one SVG.
#
#   bench/LongMemory/run.sh [OUTDIR]            # default OUTDIR: artifacts/longmemory
#   TIME_LIMIT=14m STEPS=8000 SEQUENCES=3000 bench/LongMemory/run.sh
#   SEQUENTIAL=1 bench/LongMemory/run.sh        # one run after the other (default: the three at once, 1 thread each)
#   WARMUP=3m bench/LongMemory/run.sh           # curriculum: first 3 minutes on gaps 10-20 (ab-warmup.csv), then
#                                               # --resume on the 50-60 gaps for TIME_LIMIT (the validation curve holds both)
#   CONTINUE=1 bench/LongMemory/run.sh OUTDIR   # --resume each cell's checkpoint in OUTDIR on the 50-60 gaps for
#                                               # another TIME_LIMIT (up to STEPS in total), then plot again
#   CELLS=lstm LSTM_ARGS="--forget-bias 1" bench/LongMemory/run.sh OUTDIR
#                                               # only the cells named (lstm gru rnn); LSTM_ARGS / TRAIN_ARGS: extra
#                                               # `rnn train` options of the LSTM's / every cell's first invocation
#                                               # (LSTM_LABEL: its curve's label in the plot)
#   TRAIN_SEED=2 bench/LongMemory/run.sh OUTDIR # the trainer's seed (initialisation, dropout); the data stays SEED's
#   EVAL_EVERY=200                              # validation interval (steps); .ci/run smoke-tests with SEQUENCES=200 STEPS=20 EVAL_EVERY=10
#
# Writes OUTDIR/ab.csv (seeded: the same file every time), OUTDIR/<cell>.safetensors, .ckpt.safetensors, .loss.svg,
# .json (the trainer's summary), .log, and OUTDIR/long-memory.svg (the three validation curves).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/artifacts/longmemory}"
time_limit="${TIME_LIMIT:-14m}"
steps="${STEPS:-8000}"
sequences="${SEQUENCES:-3000}"
seed="${SEED:-1}"
train_seed="${TRAIN_SEED:-$seed}"
cells="${CELLS:-lstm gru rnn}"
read -r -a train_args <<< "${TRAIN_ARGS:-}"
read -r -a lstm_args <<< "${LSTM_ARGS:-}"
mkdir -p "$out"

if [ "${BUILD:-1}" != 0 ]; then # BUILD=0: use the binaries already built (e.g. a second run started alongside)
  dotnet build "$root/src/RnnCli" -c Release -v quiet -nologo > /dev/null
  dotnet build "$here" -c Release -v quiet -nologo > /dev/null
fi
rnn="$root/src/RnnCli/bin/Release/net10.0/rnn"
tool="$here/bin/Release/net10.0/LongMemory"

"$tool" generate --out "$out/ab.csv" --sequences "$sequences" --seed "$seed" --gap-min 50 --gap-max 60 --reports 2 --max-adds 2
warmup="${WARMUP:-0}"
if [ "$warmup" != 0 ]; then
  "$tool" generate --out "$out/ab-warmup.csv" --sequences "$sequences" --seed "$((seed + 1))" --gap-min 10 --gap-max 20 --reports 2 --max-adds 2
fi

# About 4,750 parameters each (input 3: value, a, b; one output; head included):
#   LSTM H=32: 4·32·(3+32+2) + 33 = 4,769   GRU H=37: 3·37·(3+37+2) + 38 = 4,700   RNN (tanh) H=66: 66·(3+66+2) + 67 = 4,753
common=(--task regress --target-columns total --batch 16 --seq-len 256 --lr 3e-3 --clip 5 --seed "$train_seed"
        --threads 1 --steps "$steps" --eval-every "${EVAL_EVERY:-200}" --eval-streams 8 --keep-best --checkpoint-seconds 120)
train() {
  local name=$1; shift
  set -- "$@" "${train_args[@]}"
  if [ "${CONTINUE:-0}" = 1 ]; then
    local n=1
    while [ -e "$out/$name.continue$n.log" ]; do n=$((n + 1)); done
    "$rnn" train --resume "$out/$name.ckpt.safetensors" --corpus "$out/ab.csv" --steps "$steps" --threads 1 --time-limit "$time_limit" \
      --checkpoint-seconds 120 --out "$out/$name.safetensors" --json > "$out/$name.json" 2> "$out/$name.continue$n.log"
  elif [ "$warmup" != 0 ]; then
    "$rnn" train "${common[@]}" "$@" --corpus "$out/ab-warmup.csv" --time-limit "$warmup" --out "$out/$name-warmup.safetensors" \
      --checkpoint "$out/$name.ckpt.safetensors" --json > "$out/$name-warmup.json" 2> "$out/$name-warmup.log"
    "$rnn" train --resume "$out/$name.ckpt.safetensors" --corpus "$out/ab.csv" --steps "$steps" --threads 1 --time-limit "$time_limit" \
      --checkpoint-seconds 120 --out "$out/$name.safetensors" --json > "$out/$name.json" 2> "$out/$name.log"
  else
    "$rnn" train "${common[@]}" "$@" --corpus "$out/ab.csv" --time-limit "$time_limit" --out "$out/$name.safetensors" --json \
      > "$out/$name.json" 2> "$out/$name.log"
  fi
}

run_cell() {
  case $1 in
    lstm) train lstm --cell lstm --hidden 32 "${lstm_args[@]}" ;;
    gru) train gru --cell gru --hidden 37 ;;
    rnn) train rnn --cell rnn-tanh --hidden 66 ;;
    *) echo "CELLS: unknown cell '$1' (lstm, gru, rnn)" >&2; return 2 ;;
  esac
}

echo "start $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
pids=()
for name in $cells; do
  if [ "${SEQUENTIAL:-0}" = 1 ]; then
    run_cell "$name"
  else
    run_cell "$name" & pids+=($!)
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "end $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"

curves=()
for name in $cells; do
  case $name in
    lstm) curves+=("${LSTM_LABEL:-LSTM H=32}=$out/lstm.ckpt.safetensors") ;;
    gru) curves+=("GRU H=37=$out/gru.ckpt.safetensors") ;;
    rnn) curves+=("RNN tanh H=66=$out/rnn.ckpt.safetensors") ;;
  esac
  log=$({ ls -t "$out/$name".continue*.log "$out/$name.log" 2> /dev/null || true; } | head -1) # the latest invocation's
  echo "$name: $(grep '^validation:' "$log" | tail -1) $(grep '^done' "$log")"
done
first=$(echo $cells | cut -d' ' -f1)
variance=$(sed -nE 's/.*target variance ([0-9.]+) over.*/\1/p' "$out/$first.log" | tail -1)
title="a/b task, gaps 50-60: held-out MSE (~4,750 parameters each)"
if [ -e "$out/ab-warmup.csv" ]; then title="a/b task: held-out MSE on gaps 10-20 (warm-up), then 50-60"; fi
"$tool" plot --out "$out/long-memory.svg" --baseline "$variance" --title "$title" "${curves[@]}"
