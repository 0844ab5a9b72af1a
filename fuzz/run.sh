#!/usr/bin/env bash
# Coverage-guided fuzzing of RnnEmbedded's parsers with SharpFuzz and afl++ (docs/fuzzing.md).
#
#   fuzz/run.sh [target] [minutes] [seeds]
#       target: json | safetensors | model | onnx (default json); minutes default 30; seeds default fuzz/corpus/<target>
#       (pass a previous campaign's queue, copied out of artifacts/fuzz/<target>/findings/default/queue, to go on)
#   fuzz/run.sh selftest 1             checks the plumbing: must report one crash and one hang (docs/fuzzing.md)
#
# From a fresh Debian/Ubuntu machine with the .NET 10 SDK: installs afl++ (apt-get) and the sharpfuzz tool,
# builds fuzz/RnnFuzz into artifacts/fuzz/<target>/bin, instruments RnnEmbedded.Compiler.dll there, runs afl-fuzz
# for the given time on fuzz/corpus/<target>/, prints the campaign's figures from fuzzer_stats, copies crashing
# and hanging inputs to artifacts/fuzz/<target>/crashes and replays each one (uninstrumented) to print its exception.
# On a shared machine run it as `nice -n 19 fuzz/run.sh …`. Two campaigns (different targets) may run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${1:-json}
minutes=${2:-30}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

case "$target" in
  json) dict=fuzz/dict/json.dict ;;
  safetensors|model) dict=fuzz/dict/safetensors.dict ;;
  onnx) dict=fuzz/dict/onnx.dict ;;
  selftest) dict=fuzz/dict/json.dict ;;
  *) echo "unknown target '$target'; expected json, safetensors, model or onnx" >&2; exit 2 ;;
esac
corpus=${3:-fuzz/corpus/$target}
extra=()
if [[ $target == selftest ]]; then
  # One bit flip away from "crash" and "hang", in JSON of different shapes (seeds with the same coverage would
  # leave one of them unfavoured and unfuzzed); deterministic stages on, trimming off (the keyword test is in
  # the uninstrumented harness, so trimming would cut the keywords away).
  corpus=artifacts/fuzz/selftest/seeds
  rm -rf "$corpus"
  mkdir -p "$corpus"
  printf '"crasi"' > "$corpus/crash"
  printf '[0,"hanf"]' > "$corpus/hang"
  export AFL_DISABLE_TRIM=1
  extra=(-D)
fi
[[ -d $corpus ]] || { echo "no seed corpus $corpus" >&2; exit 2; }
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || { echo "minutes must be a positive integer, got '$minutes'" >&2; exit 2; }

# 1. afl++ (Debian package) and the SharpFuzz instrumenter (a dotnet tool, kept under artifacts/).
if ! command -v afl-fuzz > /dev/null; then
  echo "== installing afl++"
  sudo=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++
fi
tools=$root/artifacts/fuzz/tools
if [[ ! -x $tools/sharpfuzz ]]; then
  echo "== installing SharpFuzz.CommandLine"
  dotnet tool install --tool-path "$tools" SharpFuzz.CommandLine --version 2.3.0
fi

# 2. Build into a directory of this target's own, so that campaigns of different targets do not share
#    (and re-instrument) one RnnEmbedded.Compiler.dll.
work=$root/artifacts/fuzz/$target
bin=$work/bin
rm -rf "$bin"
echo "== building fuzz/RnnFuzz"
dotnet build fuzz/RnnFuzz/RnnFuzz.csproj -c Release -o "$bin" -v q -nologo

# 3. Instrument the code under test only (not the harness, not SharpFuzz, not the BCL). The instrumented code
#    needs afl-fuzz's shared memory, so inputs are replayed with an uninstrumented copy of the build.
replay=$work/replay
rm -rf "$replay"
cp -r "$bin" "$replay"
echo "== instrumenting RnnEmbedded.Compiler.dll"
"$tools/sharpfuzz" "$bin/RnnEmbedded.Compiler.dll"

# 4. Fuzz. dotnet itself is not instrumented (AFL_SKIP_BIN_CHECK); the coverage comes from SharpFuzz.
findings=$work/findings
rm -rf "$findings"
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
echo "== afl-fuzz: target $target for $minutes minutes (log: $work/afl.log)"
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
afl-fuzz -i "$corpus" -o "$findings" -x "$dict" "${extra[@]}" -t 5000 -m none -V $((minutes * 60)) \
  -- dotnet "$bin/RnnFuzz.dll" "$target" > "$work/afl.log" 2>&1
status=$?
set -e
end_load=$(cut -d' ' -f1-3 /proc/loadavg)
stats=$findings/default/fuzzer_stats
if [[ ! -f $stats ]]; then
  echo "afl-fuzz exited with $status before writing fuzzer_stats; the end of $work/afl.log:" >&2
  tail -30 "$work/afl.log" >&2
  exit 1
fi

# 5. Report.
field() { grep -E "^$1 +:" "$stats" | sed 's/^[^:]*: *//'; }
echo "== results: target $target"
echo "run time (s):       $(field run_time)"
echo "executions:         $(field execs_done)"
echo "execs/s (overall):  $(awk -v e="$(field execs_done)" -v t="$(field run_time)" 'BEGIN { if (t > 0) printf "%.1f", e / t; else print "n/a" }')"
echo "corpus (paths):     $(field corpus_count) (found $(field corpus_found), imported $(field corpus_imported))"
echo "edges found:        $(field edges_found) of $(field total_edges) ($(field bitmap_cvg))"
echo "stability:          $(field stability)"
echo "crashes / hangs:    $(field saved_crashes) / $(field saved_hangs)"
echo "load average:       $start_load at the start, $end_load at the end ($(nproc) cores)"

out=$work/crashes
rm -rf "$out"
mkdir -p "$out"
for kind in crashes hangs; do
  for f in "$findings"/default/$kind/id:*; do
    [[ -e $f ]] || continue
    cp "$f" "$out/$kind-$(basename "$f" | cut -d, -f1 | tr ':' '_')"
  done
done
if compgen -G "$out/*" > /dev/null; then
  echo "== crashing / hanging inputs copied to $out; replaying them:"
  for f in "$out"/*; do
    timeout 30 dotnet "$replay/RnnFuzz.dll" "$target" --replay "$f" || [[ $? -ne 124 ]] || echo "$f: still running after 30 s (a hang)"
  done
  echo "minimise one with: afl-tmin -i <input> -o <output> -t 5000 -m none -- dotnet $bin/RnnFuzz.dll $target"
  exit 1
fi
echo "no crashes or hangs"
