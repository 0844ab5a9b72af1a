#!/usr/bin/env bash
# NativeAOT figures for the samples in samples/iot (issue 6): binary size (target ≤ 4 MB, model included) and
# time from exec to the first prediction (target ≤ 20 ms).
#
#   bench/aot/run.sh [--runs N] [--rounds R] [--warmup N] [--no-publish]
#
# Per sample it publishes
#   dotnet publish samples/iot/<Sample> -c Release -r linux-x64 -p:IlcInstructionSet=native
#                  -o bench/out/aot/<Sample>
# (plus EmitCompilerGeneratedFiles, which only writes the generated model source beside the build so its weights
# can be counted; it does not change the binary), then times the binary's non-interactive mode on a one-character
# input N times (default 60, in R interleaved rounds — default 6 — so that every binary sees the same mix of load
# on a shared machine; each round is preceded by warm-up runs): the process reads "a", runs the model, prints its first prediction and exits, so
# exec → first prediction is bounded by the process wall time, which is what is measured (hyperfine -N if
# installed, else a loop around date +%s%N). bench/aot/EmptyAot — a NativeAOT program with the same settings that
# prints one character — is measured the same way: the floor that the .NET runtime's start-up alone costs.
#
# CaptionDecoder is measured only if samples/iot/CaptionDecoder exists; its first-prediction arguments are
# $CAPTION_DECODER_ARGS if set, else the .ppm/.png under samples/iot/CaptionDecoder with the shortest path, else a scene image
# the SceneKit tool draws into bench/out/aot/scenes (the on-device path: read the PNG, extract features, decode),
# else "--count 1" (the app's demo mode: one scene rendered in memory). Each sample's model is the <RnnModel Include> of its .csproj.
set -euo pipefail

RUNS=60
ROUNDS=6
WARMUP=3
PUBLISH=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --no-publish) PUBLISH=0; shift ;;
        *) echo "usage: bench/aot/run.sh [--runs N] [--rounds R] [--warmup N] [--no-publish]" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/bench/out/aot"
TFM=net10.0   # the samples' own target framework (their obj/ path below)
RID=linux-x64
TARGET_BYTES=4000000       # 4 MB = 4,000,000 bytes
TARGET_MS=20
mkdir -p "$OUT"

echo "== machine"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores visible, $(grep -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)   (shared machine: other jobs run beside this one)"
echo "dotnet sdk $(dotnet --version); publish: $TFM -r $RID -p:IlcInstructionSet=native"
echo "git: $(git rev-parse --short HEAD) on $(git rev-parse --abbrev-ref HEAD)$(git diff --quiet HEAD -- src samples && echo '' || echo ' (src/samples modified)')"

SAMPLES=(KeystrokePredictor TextGenerator)
[[ -d samples/iot/CaptionDecoder ]] && SAMPLES+=(CaptionDecoder)

# The weight file a sample compiles: its .csproj's <RnnModel Include="...">, as a path from the repo root.
model_of() {
    local dir="samples/iot/$1" inc
    inc=$(grep -o '<RnnModel Include="[^"]*"' "$dir/$1.csproj" | head -1 | sed 's/.*Include="//; s/"$//; s#\\#/#g')
    [[ -n "$inc" ]] && realpath -m --relative-to="$ROOT" "$dir/$inc"
}

echo
echo "== models"
declare -A MODEL MODEL_BYTES
for s in "${SAMPLES[@]}"; do
    m=$(model_of "$s")
    if [[ -z "$m" || ! -f "$m" ]]; then
        echo "error: $s compiles '${m:-?}' at build time (<RnnModel> in its .csproj), and it is missing." >&2
        exit 1
    fi
    MODEL[$s]=$m
    MODEL_BYTES[$s]=$(stat -c %s "$m")
    if git ls-files --error-unmatch "$m" >/dev/null 2>&1 && git diff --quiet HEAD -- "$m"; then
        origin="committed ($(git log -1 --format=%h -- "$m"))"
    else
        origin="NOT a committed model (untracked or modified local file: a stand-in?)"
    fi
    printf '%s: %s, %d bytes (%.2f MB), sha256 %s, %s\n' "$s" "$m" "${MODEL_BYTES[$s]}" \
        "$(echo "${MODEL_BYTES[$s]} / 1000000" | bc -l)" "$(sha256sum "$m" | cut -c1-16)" "$origin"
done

first_args() {
    case "$1" in
        KeystrokePredictor) echo "--replay a" ;;
        TextGenerator) echo "--prime a --length 1 --seed 1" ;;
        CaptionDecoder)
            local image
            # The shortest name first: scene00.png before variants such as scene00-rgba-paeth.png.
            image=$(find samples/iot/CaptionDecoder \( -name '*.ppm' -o -name '*.png' \) -not -path '*/obj/*' -not -path '*/bin/*' \
                | awk '{ print length($0), $0 }' | sort -n | head -1 | cut -d' ' -f2-)
            [[ -z "$image" && -f "$SCENE_IMAGE" ]] && image="$SCENE_IMAGE"
            if [[ -n "${CAPTION_DECODER_ARGS:-}" ]]; then
                echo "$CAPTION_DECODER_ARGS"
            elif [[ -n "$image" ]]; then
                echo "$image"
            else
                echo "--count 1"
            fi ;;
        EmptyAot) echo "" ;;
    esac
}

project_dir() {
    if [[ "$1" == EmptyAot ]]; then echo bench/aot/EmptyAot; else echo "samples/iot/$1"; fi
}

# Exec-to-exit wall times in ms, one per line, for: count binary args...
time_runs() {
    local n="$1"
    shift
    local json="$OUT/$(basename "$1").hyperfine.json"
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N --style none --warmup "$WARMUP" --runs "$n" --export-json "$json" -- "$*" >/dev/null 2>&1
        jq -r '.results[0].times[] * 1000' "$json"
    else
        local i t0 t1
        for ((i = 0; i < WARMUP; i++)); do "$@" >/dev/null; done
        for ((i = 0; i < n; i++)); do
            t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
            echo "scale=3; ($t1 - $t0) / 1000000" | bc
        done
    fi
}

# Median and p90 (nearest rank) of the numbers on stdin: "median p90 min max".
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        n = NR; m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
        r = int(0.9 * n); if (r < 0.9 * n) r++;
        printf "%.2f %.2f %.2f %.2f\n", m, v[r], v[1], v[n] }'
}

# Weight bytes a generated model source carries: weight literals (float32 as two \uXXXX escapes each) plus the
# manifest-resource weight blobs it opens (EmbeddedWeights.Open(assembly, "<Class>.rnnweights", <bytes>L, …); since
# issue 11 the weights travel in the blob, docs/generator.md "Weights: manifest resources"). Prints "<literal floats> <blob bytes>".
weight_bytes() {
    python3 - "$1" <<'PY'
import re, sys
src = open(sys.argv[1], encoding="utf-8-sig").read()
units = 0
for m in re.finditer(r'MemoryMarshal\.Cast<char, float>\("((?:[^"\\]|\\.)*)"\)', src):
    body = m.group(1)
    units += len(re.sub(r'\\u[0-9A-Fa-f]{4}|\\.', 'x', body))
blob = sum(int(m.group(1)) for m in re.finditer(r'EmbeddedWeights\.Open\([^,]+,\s*"[^"]*",\s*(\d+)L', src))
print(units // 2, blob)
PY
}

# The model source RnnEmbedded.Generators wrote under a CompilerGeneratedFilesOutputPath.
generated_of() {
    find "$1" -path '*RnnEmbedded.Generators*' -name '*.g.cs' 2>/dev/null | sort | head -1
}

# A test image for CaptionDecoder, drawn by the SceneKit tool (held-out seed 3; its caption is in captions.txt).
SCENE_IMAGE="$OUT/scenes/scene00.png"
if [[ " ${SAMPLES[*]} " == *" CaptionDecoder "* && -z "${CAPTION_DECODER_ARGS:-}" && ! -f "$SCENE_IMAGE" && -d samples/iot/SceneKit/Tool ]]; then
    echo
    echo "== drawing a scene for CaptionDecoder: dotnet run --project samples/iot/SceneKit/Tool -c Release -- images --out bench/out/aot/scenes --count 1 --format png"
    dotnet run --project samples/iot/SceneKit/Tool -c Release -- images --out "$OUT/scenes" --count 1 --format png >"$OUT/scenes.log" 2>&1 \
        || { cat "$OUT/scenes.log"; echo "warning: could not draw a scene; CaptionDecoder runs its demo mode" >&2; }
    cat "$OUT/scenes/captions.txt" 2>/dev/null || true
fi

declare -A SIZE MEDIAN P90 MIN MAX GEN_SRC GEN_FLOATS GEN_BLOB RSS FAULTS CMD
TIMED=()
for s in "${SAMPLES[@]}" EmptyAot; do
    dir=$(project_dir "$s")
    gen="$OUT/generated/$s"
    echo
    echo "== $s"
    if [[ $PUBLISH == 1 ]]; then
        # The generated source is written only when CoreCompile runs: force it if it is missing or stale.
        if [[ $s != EmptyAot ]] && { [[ -z "$(generated_of "$gen")" ]] || [[ "${MODEL[$s]}" -nt "$(generated_of "$gen")" ]]; }; then
            rm -f "$dir/obj/Release/$TFM/$RID/$s.dll"
        fi
        t0=$(date +%s%N)
        dotnet publish "$dir" -c Release -r "$RID" -p:IlcInstructionSet=native -o "$OUT/$s" \
            -p:EmitCompilerGeneratedFiles=true -p:CompilerGeneratedFilesOutputPath="$gen" -nologo -v:q >"$OUT/$s.publish.log" 2>&1 \
            || { cat "$OUT/$s.publish.log"; echo "error: publishing $s failed" >&2; exit 1; }
        printf 'published in %.1f s (incremental; log: bench/out/aot/%s.publish.log)\n' "$(echo "($(date +%s%N) - $t0) / 1000000000" | bc -l)" "$s"
    fi
    bin="$OUT/$s/$s"
    [[ -x "$bin" ]] || { echo "error: $bin is missing (run without --no-publish)" >&2; exit 1; }
    SIZE[$s]=$(stat -c %s "$bin")
    echo "binary: bench/out/aot/$s/$s, ${SIZE[$s]} bytes; other published files: $(cd "$OUT/$s" && ls | grep -v -x "$s" | tr '\n' ' ')(debug symbols and pdb, not needed to run)"

    if [[ $s != EmptyAot ]]; then
        src=$(generated_of "$gen")
        if [[ -n "$src" ]]; then
            GEN_SRC[$s]=$(stat -c %s "$src")
            read -r GEN_FLOATS[$s] GEN_BLOB[$s] < <(weight_bytes "$src")
            echo "generated model source: $(basename "$src"), ${GEN_SRC[$s]} bytes; weight literals: ${GEN_FLOATS[$s]} floats; weight blob (manifest resource): ${GEN_BLOB[$s]} bytes"
        fi
    fi

    read -r -a args <<<"$(first_args "$s")"
    if [[ $s == CaptionDecoder && ${#args[@]} -eq 0 ]]; then
        echo "no image or feature file found under samples/iot/CaptionDecoder; set CAPTION_DECODER_ARGS. Not timed."
        continue
    fi
    echo "first-prediction run: $bin ${args[*]}"
    set +e
    output=$("$bin" "${args[@]}" 2>&1)
    rc=$?
    set -e
    echo "$output" | sed 's/^/  | /'
    if [[ $rc != 0 ]]; then
        echo "error: $s exited with $rc" >&2
        exit 1
    fi
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -o "$OUT/$s.time.txt" -f '%M %R' "$bin" "${args[@]}" >/dev/null 2>&1
        read -r RSS[$s] FAULTS[$s] < "$OUT/$s.time.txt"
        echo "peak resident memory ${RSS[$s]} KB, minor page faults ${FAULTS[$s]} (one run, /usr/bin/time)"
    fi
    CMD[$s]="$bin ${args[*]}"
    TIMED+=("$s")
done

echo
echo "== timing: $RUNS runs per binary in $ROUNDS interleaved rounds, $WARMUP warm-up runs before each round"
per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for s in "${TIMED[@]}"; do : >"$OUT/$s.times"; done
for ((round = 1; round <= ROUNDS; round++)); do
    for s in "${TIMED[@]}"; do
        read -r -a cmd <<<"${CMD[$s]}"
        time_runs "$per" "${cmd[@]}" >>"$OUT/$s.times"
    done
    echo "round $round done, load average $(cut -d' ' -f1 /proc/loadavg)"
done
for s in "${TIMED[@]}"; do
    read -r MEDIAN[$s] P90[$s] MIN[$s] MAX[$s] < <(stats <"$OUT/$s.times")
    echo "$s: exec → exit over $(wc -l <"$OUT/$s.times") runs: median ${MEDIAN[$s]} ms, p90 ${P90[$s]} ms, min ${MIN[$s]} ms, max ${MAX[$s]} ms (times: bench/out/aot/$s.times)"
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== figures (linux-x64 NativeAOT, $TFM, IlcInstructionSet=native; MB = 10^6 bytes; time = process wall time exec → exit,"
echo "   which contains exec → first prediction; $((per * ROUNDS)) runs in $ROUNDS interleaved rounds, $(command -v hyperfine >/dev/null && echo hyperfine -N || echo 'date +%s%N loop'))"
echo
echo "| Sample | binary (model inside) | vs 4 MB | exec → first prediction, median | p90 | min | vs 20 ms (median) | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for s in "${SAMPLES[@]}" EmptyAot; do
    name=$s
    [[ $s == EmptyAot ]] && name="EmptyAot (runtime floor, no model)"
    mb=$(echo "${SIZE[$s]} / 1000000" | bc -l)
    size_ratio=$(echo "${SIZE[$s]} / $TARGET_BYTES" | bc -l)
    if [[ -n "${MEDIAN[$s]:-}" ]]; then
        printf '| %s | %.2f MB | %.2f× | %s ms | %s ms | %s ms | %.2f× | %s |\n' "$name" "$mb" "$size_ratio" "${MEDIAN[$s]}" "${P90[$s]}" "${MIN[$s]}" \
            "$(echo "${MEDIAN[$s]} / $TARGET_MS" | bc -l)" "$([[ -n "${RSS[$s]:-}" ]] && echo "$(echo "${RSS[$s]} / 1024" | bc -l | xargs printf '%.1f') MiB" || echo '?')"
    else
        printf '| %s | %.2f MB | %.2f× | not timed | | | | |\n' "$name" "$mb" "$size_ratio"
    fi
done
echo
for s in "${SAMPLES[@]}"; do
    printf '%s: model file %s %d bytes (%.2f MB)' "$s" "${MODEL[$s]}" "${MODEL_BYTES[$s]}" "$(echo "${MODEL_BYTES[$s]} / 1000000" | bc -l)"
    if [[ -z "${GEN_FLOATS[$s]:-}" ]]; then
        echo
        continue
    fi
    printf '; generated weights %d bytes (%.2f MB: %d bytes of weight blob in a manifest resource + %d floats of literals) with a %.2f MB generated source file; binary minus EmptyAot floor: %.2f MB\n' \
        "$((GEN_BLOB[$s] + GEN_FLOATS[$s] * 4))" "$(echo "(${GEN_BLOB[$s]} + ${GEN_FLOATS[$s]} * 4) / 1000000" | bc -l)" "${GEN_BLOB[$s]}" "${GEN_FLOATS[$s]}" \
        "$(echo "${GEN_SRC[$s]} / 1000000" | bc -l)" "$(echo "(${SIZE[$s]} - ${SIZE[EmptyAot]}) / 1000000" | bc -l)"
done
