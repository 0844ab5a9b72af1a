#!/usr/bin/env bash
# linux-arm64, verified under emulation (docs/nativeaot.md): cross-publishes samples/iot/KeystrokePredictor with
# NativeAOT for Raspberry Pi 4 (Cortex-A72: armv8-a + CRC) and Pi 5 (Cortex-A76: armv8.2-a + dotprod + rcpc), runs
# each binary under qemu-aarch64 on a replayed text, and fails unless its predictions equal the linux-x64 NativeAOT
# build's keystroke by keystroke. The generated Vector128 path then runs as real NEON instructions (emulated).
# Each board runs under qemu's model of its core (-cpu cortex-a72 / cortex-a76), so the Pi 4 lacks the dot-product
# extension as the real one does. Both boards are also published with int8-dynamic weights and compared with an x64
# int8-dynamic build: the Pi 5 runs the ARM int8 dot-product (sdot) kernels, the Pi 4 the AdvSimd widening-multiply
# fallback (smull/smlal/sadalp, docs/kernels.md "Dynamic int8: without VNNI or dotprod").
# Emulated timings mean nothing: they are dropped before the comparison and are not reported anywhere.
#
#   eng/arm64.sh [--x64-log FILE]
#
# --x64-log: the x64 NativeAOT binary's output for the same replay (as .ci/run writes it); without it this script
# publishes and runs the x64 binary itself. Needs clang, lld, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and
# qemu-user; as root it installs them with apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
REPLAY='In the beginning God created the heaven and the earth. And the LOR\b\bORD said unto Mos'
OUT=artifacts/ci
X64_LOG=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --x64-log) X64_LOG="$2"; shift 2 ;;
        *) echo "usage: eng/arm64.sh [--x64-log FILE]" >&2; exit 2 ;;
    esac
done
fail() { echo "ARM64 FAILURE: $*" >&2; exit 1; }
mkdir -p "$OUT"

echo "== cross toolchain and emulator"
need=()
command -v clang >/dev/null || need+=(clang)
command -v ld.lld >/dev/null || need+=(lld)
command -v aarch64-linux-gnu-objcopy >/dev/null || need+=(gcc-aarch64-linux-gnu)
[[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [[ ${#need[@]} -gt 0 ]]; then
    [[ $(id -u) == 0 ]] || fail "missing ${need[*]}: run as root, or: sudo apt-get install ${need[*]}"
    # gcc-aarch64-linux-gnu brings binutils' aarch64 objcopy; libc6-dev-arm64-cross the target's libc and crt files.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
fi
echo "clang $(clang --version | head -1 | grep -o '[0-9][0-9.]*' | head -1), $(qemu-aarch64 --version | head -1)"

# Predictions, not timings: the update_us column, the summary (latencies) and the model line (vector width) go.
strip() { sed -E 's/^( *[0-9]+  .{4} ) *[0-9.]+ /\1/' "$1" | grep -v '^summary:\|^model:'; }

if [[ -z "$X64_LOG" ]]; then
    echo
    echo "== linux-x64 NativeAOT reference"
    dotnet publish samples/iot/KeystrokePredictor -c Release -r linux-x64 -o "$OUT/keystroke-aot" -v q -nologo
    X64_LOG="$OUT/replay-aot.txt"
    "$OUT/keystroke-aot/KeystrokePredictor" --replay "$REPLAY" > "$X64_LOG"
fi
[[ -s "$X64_LOG" ]] || fail "$X64_LOG is missing or empty"

# Pi 4: Cortex-A72 (ARMv8.0-A + CRC). Pi 5: Cortex-A76 (ARMv8.2-A + dotprod + rcpc). A comma inside -p: is %2C.
declare -A ISA=([pi4]='armv8-a%2Ccrc' [pi5]='armv8.2-a%2Cdotprod%2Crcpc')
declare -A CPU=([pi4]=cortex-a72 [pi5]=cortex-a76)
# check BOARD WEIGHT_TYPE X64_LOG: cross-publish the sample for BOARD with RnnWeightType=WEIGHT_TYPE, run it under
# qemu-aarch64 on the replay, and fail unless its predictions equal X64_LOG's keystroke by keystroke.
check() {
    local board="$1" weights="$2" x64_log="$3"
    local tag="$board"
    [[ "$weights" == float32 ]] || tag="$board-$weights"
    local dir="$OUT/keystroke-arm64-$tag"
    echo
    echo "== $tag: dotnet publish samples/iot/KeystrokePredictor -c Release -p:AppRuntimeIdentifier=linux-arm64 -p:IlcInstructionSet=${ISA[$board]} -p:RnnWeightType=$weights (cross: SysRoot=/, lld, aarch64 objcopy)"
    rm -rf "$dir"
    # The RID is set through the sample's own property (AppRuntimeIdentifier → RuntimeIdentifier), not a global -r,
    # which would also flow into the net8.0 runtime library's restore.
    dotnet publish samples/iot/KeystrokePredictor -c Release -p:AppRuntimeIdentifier=linux-arm64 \
        -p:IlcInstructionSet="${ISA[$board]}" -p:RnnWeightType="$weights" -p:SysRoot=/ -p:LinkerFlavor=lld \
        -p:ObjCopyName=aarch64-linux-gnu-objcopy -o "$dir" -v q -nologo
    # ELF e_machine (bytes 18-19) 0xb7 = EM_AARCH64.
    [[ "$(od -An -tx1 -j18 -N2 "$dir/KeystrokePredictor" | tr -d ' ')" == b700 ]] \
        || fail "$dir/KeystrokePredictor is not an arm64 ELF binary"
    echo "binary: $(stat -c %s "$dir/KeystrokePredictor") bytes, ELF aarch64"
    local log="$OUT/replay-arm64-$tag.txt"
    qemu-aarch64 -cpu "${CPU[$board]}" -L /usr/aarch64-linux-gnu "$dir/KeystrokePredictor" --replay "$REPLAY" > "$log" \
        || fail "the $tag binary failed under qemu-aarch64"
    grep '^model:' "$log"
    grep -q '^text: In the beginning God created the heaven and the earth. And the LORD said unto Mos$' "$log" \
        || fail "$tag: the replayed text (with backspaces) is wrong"
    local summary
    summary=$(grep '^summary:' "$log") || fail "$tag: no summary"
    [[ "$summary" == *" gc_collections 0 "* && "$summary" == *" steady_state_bytes_allocated 0" ]] \
        || fail "$tag: GCs or steady-state allocation: $summary"
    if ! diff <(strip "$log") <(strip "$x64_log") > "$OUT/replay-arm64-$tag.diff"; then
        head -20 "$OUT/replay-arm64-$tag.diff" >&2
        fail "$tag: predictions differ from the x64 build's (full diff: $OUT/replay-arm64-$tag.diff)"
    fi
    echo "$tag: $(strip "$log" | grep -c '^ *[0-9]') keystrokes under qemu -cpu ${CPU[$board]}, predictions equal to x64's keystroke by keystroke"
}

for board in pi4 pi5; do
    check "$board" float32 "$X64_LOG"
done

# int8-dynamic weights (docs/kernels.md): on the Pi 5 the products run ARM's int8 dot product (sdot, .NET's
# Dp.DotProduct), on the Pi 4 (no dotprod) the widening-multiply fallback; on x64 AVX-VNNI, vpmaddubsw or the
# scalar path. All compute the same integer sums and the same float rescaling, so the predictions must equal the
# x64 int8-dynamic build's.
echo
echo "== linux-x64 NativeAOT reference with int8-dynamic weights"
dotnet publish samples/iot/KeystrokePredictor -c Release -r linux-x64 -p:RnnWeightType=int8-dynamic \
    -o "$OUT/keystroke-aot-int8-dynamic" -v q -nologo
"$OUT/keystroke-aot-int8-dynamic/KeystrokePredictor" --replay "$REPLAY" > "$OUT/replay-aot-int8-dynamic.txt"
check pi5 int8-dynamic "$OUT/replay-aot-int8-dynamic.txt"
check pi4 int8-dynamic "$OUT/replay-aot-int8-dynamic.txt"
# Both int8-dynamic binaries carry both ARM paths (the kernels test Dp.IsSupported at run time): sdot and the
# fallback's sadalp must be there. qemu's cortex-a72 has no dotprod (an sdot would fault), so the Pi 4's equal
# predictions came from the fallback, the Pi 5's (cortex-a76, dotprod) from sdot.
objdump_count() { aarch64-linux-gnu-objdump -d "$OUT/keystroke-arm64-$1/KeystrokePredictor" | grep -cw "$2" || true; }
sdot=$(objdump_count pi5-int8-dynamic sdot)
sadalp=$(objdump_count pi4-int8-dynamic sadalp)
echo "pi5-int8-dynamic: $sdot sdot instructions; pi4-int8-dynamic: $sadalp sadalp instructions"
[[ $sdot -gt 0 ]] || fail "pi5-int8-dynamic: no sdot instruction in the binary"
[[ $sadalp -gt 0 ]] || fail "pi4-int8-dynamic: no sadalp instruction in the binary"
# The Vector128 quantizer (docs/kernels.md, "Quantizing on ARM64"): its NaN mask is an fcmeq of a vector with itself,
# which nothing else in the binary emits (the float32 builds have none), so both ran it rather than the scalar loop.
fcmeq_self() { aarch64-linux-gnu-objdump -d "$OUT/keystroke-arm64-$1/KeystrokePredictor" \
    | grep -cP 'fcmeq\s+v\d+\.4s, (v\d+)\.4s, \1\.4s' || true; }
for tag in pi4-int8-dynamic pi5-int8-dynamic; do
    quantize=$(fcmeq_self "$tag")
    echo "$tag: $quantize fcmeq x, x (the Vector128 quantizer's NaN mask)"
    [[ $quantize -gt 0 ]] || fail "$tag: no Vector128 quantizer (fcmeq vN, vN, vN) in the binary"
done
echo "ARM64 OK"
