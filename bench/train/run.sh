#!/usr/bin/env bash
# Trainer benchmark: ours (`rnn train`) and PyTorch (bench/train/torch_peer.py) on the same model, batch and
# corpus, in one run, on this machine. Prints tokens/s for both and the ratio; then (unless TTQ=0) a
# time-to-quality run of ours, and of PyTorch when PEER_TTQ is set.
#
#   bench/train/run.sh [CORPUS]                 # default corpus: ../shared/corpora/kjv.txt
#   SECONDS_PER_RUN=60 TTQ=7.5m bench/train/run.sh /work/shared/corpora/kjv.txt
#   TTQ=0 bench/train/run.sh                     # throughput only
#   PEER_TTQ=450 bench/train/run.sh              # also PyTorch time-to-quality for 450 s
#   THROUGHPUT=0 PEER_TTQ=450 bench/train/run.sh # time to quality only (ours, then PyTorch)
#
# Model: char-level, embedding 64, 1 layer, H=256, B=32, T=64, Adam 2e-3, clip 5, 2 threads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${1:-$root/../shared/corpora/kjv.txt}"
secs="${SECONDS_PER_RUN:-60}"
ttq="${TTQ:-7.5m}"
threads="${THREADS:-2}"
py=/usr/bin/python3
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

dotnet build "$root/src/RnnCli" -c Release -v quiet -nologo >/dev/null
rnn="$root/src/RnnCli/bin/Release/net10.0/rnn"
common=(--corpus "$corpus" --hidden 256 --embedding 64 --layers 1 --batch 32 --seq-len 64 --lr 0.002 --clip 5 --threads "$threads" --seed 1)

field() { $py -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

have_torch=0
if $py -c "import torch" 2>/dev/null; then have_torch=1; fi

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); corpus $corpus; ${secs}s per throughput run"
cells="lstm gru"
if [ "${THROUGHPUT:-1}" = "0" ]; then cells=""; fi
for cell in $cells; do
  ours_json="$("$rnn" train "${common[@]}" --cell "$cell" --time-limit "${secs}s" --eval-seconds 1e9 --sample-seconds 0 \
      --checkpoint-seconds 0 --val-limit 2000 --out "$out/$cell.safetensors" --json 2>/dev/null)"
  ours="$(echo "$ours_json" | field tokens_per_second)"
  if [ "$have_torch" = 1 ]; then
    torch_json="$($py "$here/torch_peer.py" "$corpus" --cell "$cell" --seconds "$secs" --threads "$threads")"
    peer="$(echo "$torch_json" | field tokens_per_second)"
    $py -c "print(f'throughput {\"$cell\":4s} H=256 E=64 B=32 T=64 {$threads} threads: ours {$ours:8.0f} tok/s  pytorch {$peer:8.0f} tok/s  ratio {$ours/$peer:.2f}x')"
  else
    $py -c "print(f'throughput {\"$cell\":4s}: ours {$ours:8.0f} tok/s  (python3-torch not installed: no peer)')"
  fi
done

if [ "$ttq" != "0" ]; then
  echo "time to quality: ours, LSTM H=256, --time-limit $ttq, validation = first 200,000 chars of the last 10%"
  "$rnn" train "${common[@]}" --cell lstm --time-limit "$ttq" --eval-seconds 60 --sample-seconds 0 --checkpoint-seconds 0 \
      --out "$out/ttq.safetensors" --json 2>"$out/ttq.log" >"$out/ttq.json"
  grep '^validation at' "$out/ttq.log" | sed 's/^/  ours: /'
  $py -c "import json; r=json.load(open('$out/ttq.json')); print(f\"  ours final: {r['val_loss']:.4f} nats/char after {r['elapsed_seconds']:.0f} s ({r['steps']} steps); target 1.339 (PyTorch after 15 min); ratio of times for 1.339: see docs/training.md\")"
  if [ "$have_torch" = 1 ] && [ -n "${PEER_TTQ:-}" ]; then
    $py "$here/torch_peer.py" "$corpus" --cell lstm --seconds "$PEER_TTQ" --eval-every 60 --threads "$threads" \
      | $py -c "import json,sys; r=json.loads(sys.stdin.read()); [print(f\"  pytorch: {c['seconds']:.0f} s: {c['val_loss']:.4f}\") for c in r['curve']]; print(f\"  pytorch final: {r['val_loss']:.4f} nats/char after {r['elapsed_seconds']:.0f} s\")"
  fi
fi
