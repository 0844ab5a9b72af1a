#!/usr/bin/env bash
# Step benchmark against peers, measured in one run on this machine, printed as ratios.
#   generated : the source-generated struct (bench/StepBench, Release), Step + softmax
#   reference : the scalar reference engine (the non-generated path), Step + softmax
#   c         : baseline.c built with gcc -O3 -march=native -ffast-math
#   pytorch   : torch.nn modules, one thread (only when Debian's python3-torch is installed)
#   weight types: the LSTM models in float32, bfloat16 and int8 (bench/PrecisionBench), interleaved, as ratios
# ONNX Runtime C# and TorchSharp are measured by bench/step/peers.sh (bench/StepPeers), in one process.
# usage: bench/step/run.sh [steps]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../out"
steps="${1:-20000}"
mkdir -p "$out"
python3 "$here/make_models.py" "$out/models" >/dev/null
gcc -O3 -march=native -ffast-math -o "$out/baseline" "$here/baseline.c" -lm
dotnet build -c Release "$here/../StepBench" -v q -nologo >/dev/null
dll="$here/../StepBench/bin/Release/net10.0/StepBench.dll"

results="$out/step-results.txt"
: > "$results"
dotnet "$dll" --ratios "$steps" >> "$results"
for cell in lstm gru; do
  for h in 128 256 512; do
    echo "c $("$out/baseline" "$cell" "$h" "$steps")" >> "$results"
  done
done
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  for cell in lstm gru; do
    for h in 128 256 512; do
      echo "pytorch $(/usr/bin/python3 "$here/pytorch_step.py" "$cell" "$h" $((steps / 10)))" >> "$results"
    done
  done
fi
echo "== weight types: LSTM step + softmax, float32 / bfloat16 / int8 interleaved (bench/PrecisionBench)"
dotnet build -c Release "$here/../PrecisionBench" -v q -nologo >/dev/null
PRECISION_NS_LINES=1 dotnet "$here/../PrecisionBench/bin/Release/net10.0/PrecisionBench.dll" --ratios \
  | tee -a "$results" | grep -v ns_per_step
echo "== keystroke latency"
dotnet "$dll" --keystroke
echo "== step time, ratios (median ns/step of 7 runs, each run $steps steps)"
python3 - "$results" <<'PY'
import re, sys
t = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+) (\w+) H=(\d+) ns_per_step=(\d+)", line.strip())
    if m:
        t[(m[1], m[2], int(m[3]))] = float(m[4])
print(f"{'model':<14}{'generated us':>14}{'C us':>10}{'ref us':>10}{'torch us':>10}{'gen/C':>8}{'torch/gen':>11}{'ref/gen':>9}")
# lstm_bf16 / lstm_int8: the same LSTM models with bfloat16 / int8 weights (PrecisionBench), against the float32
# C baseline, reference and PyTorch of the same model.
for cell in ("lstm", "gru", "lstm_bf16", "lstm_int8"):
    for h in (128, 256, 512):
        base = cell.split("_")[0]
        g = t.get(("generated", cell, h)); c = t.get(("c", base, h)); r = t.get(("reference", base, h)); p = t.get(("pytorch", base, h))
        f = lambda v: f"{v / 1000:.1f}" if v else "-"
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        print(f"{cell + str(h):<14}{f(g):>14}{f(c):>10}{f(r):>10}{f(p):>10}{ratio(g, c):>8}{ratio(p, g):>11}{ratio(r, g):>9}")
PY
