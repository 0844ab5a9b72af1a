#!/usr/bin/env bash
# The generated step against ONNX Runtime's C# API and TorchSharp, in one process, interleaved (bench/StepPeers):
# the same weights (make_models.py), exported to ONNX by export_onnx.py (python3-torch + python3-onnx, Debian),
# loaded into TorchSharp modules directly. Prints ns/step, ratios peer / generated, managed bytes per step; then the
# same weights built as bfloat16, int8 and int8-dynamic (same rounds): their ns/step, ratios and max|dp| from float32.
# usage: bench/step/peers.sh [steps at H=128] [rounds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
models="$here/../out/models"
python3 "$here/make_models.py" "$models" >/dev/null
for cell in lstm gru; do
  for h in 128 256 512; do
    if [ ! -f "$models/$cell$h.onnx" ] || [ "$models/$cell$h.safetensors" -nt "$models/$cell$h.onnx" ] \
      || [ "$here/export_onnx.py" -nt "$models/$cell$h.onnx" ]; then
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/export_onnx.py" "$models" 2>/dev/null | grep '^wrote' || {
        echo "export_onnx.py failed: it needs Debian's python3-torch and python3-onnx (apt-get install -y python3-torch libopenblas0-pthread python3-onnx)" >&2
        exit 1
      }
      break 2
    fi
  done
done
dotnet build -c Release "$here/../StepPeers" -v q -nologo >/dev/null
out="$here/../StepPeers/bin/Release/net10.0"
python3 "$here/patch_libtorchsharp.py" "$out/runtimes/linux-x64/native/libLibTorchSharp.so"
uptime
dotnet "$out/StepPeers.dll" "$@"
uptime
