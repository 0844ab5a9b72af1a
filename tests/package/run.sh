#!/usr/bin/env bash
# The packages as a user gets them (docs/getting-started.md): pack into artifacts/packages, then in a temporary
# folder outside the repository, with its own NuGet packages folder (nothing cached from an earlier run, no
# project reference), `dotnet new console` + `dotnet add package RnnEmbedded` from the local feed + an <RnnModel>
# item (tests/fixtures/lstm_1layer.safetensors), build and run it and compare with PyTorch's outputs
# (tests/package/Program.cs, tolerance 1e-5); install the `rnn` tool from the feed and run `rnn inspect` and
# `rnn run` on the fixture; publish the consumer with NativeAOT (linux-x64) and check 0 GCs, 0 bytes allocated per
# step in the steady state and the same outputs (within 1e-5 of PyTorch).
#
#   tests/package/run.sh [--no-pack] [--keep]
#
# NuGet sources: the temporary folder's nuget.config adds the local feed to the machine's own sources (no <clear/>),
# so the SDK's packs (ILCompiler for NativeAOT) come from wherever this machine gets them.
set -euo pipefail

PACK=1
KEEP=0
for arg in "$@"; do
    case "$arg" in
        --no-pack) PACK=0 ;;
        --keep) KEEP=1 ;;
        *) echo "usage: tests/package/run.sh [--no-pack] [--keep]" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FEED="$ROOT/artifacts/packages"
FIXTURE="$ROOT/tests/fixtures/lstm_1layer"
fail() { echo "PACKAGE TEST FAILURE: $*" >&2; exit 1; }

if [[ $PACK == 1 ]]; then
    echo "== pack: dotnet pack -c Release -o artifacts/packages"
    rm -rf "$FEED"
    (cd "$ROOT" && dotnet pack -c Release -o "$FEED" -nologo -v q)
fi
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" | head -1)
for id in RnnEmbedded RnnEmbedded.Runtime RnnEmbedded.Cli; do
    [[ -f "$FEED/$id.$VERSION.nupkg" ]] || fail "$FEED/$id.$VERSION.nupkg was not produced"
done
echo "packages (version $VERSION):"
(cd "$FEED" && ls -l --time-style=+ ./*.nupkg ./*.snupkg | awk '{ printf "  %-45s %8d bytes\n", $NF, $5 }')

WORK=$(mktemp -d /tmp/rnnembedded-package-test.XXXXXX)
if [[ $KEEP == 0 ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "keeping $WORK"; fi
export NUGET_PACKAGES="$WORK/nuget-packages"          # isolated: every package is restored afresh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$WORK/Consumer/models"
cd "$WORK"
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="rnnembedded-local" value="$FEED" />
  </packageSources>
</configuration>
XML

echo
echo "== consumer: dotnet new console; dotnet add package RnnEmbedded --source artifacts/packages --prerelease"
cd "$WORK/Consumer"
dotnet new console --force -o . >/dev/null
dotnet add package RnnEmbedded --source "$FEED" --prerelease
grep -q "<PackageReference Include=\"RnnEmbedded\" Version=\"$VERSION\"" Consumer.csproj \
    || fail "dotnet add package did not reference RnnEmbedded $VERSION: $(grep PackageReference Consumer.csproj)"
cp "$FIXTURE.safetensors" models/
cp "$FIXTURE.expected.txt" .
cp "$ROOT/tests/package/Program.cs" Program.cs
# The <RnnModel> item, NativeAOT for the publish below and the generated source written to obj/ for a look at it;
# nothing else (no Import, no ProjectReference, no AllowUnsafeBlocks).
sed -i 's#</Project>#  <ItemGroup>\n    <RnnModel Include="models/lstm_1layer.safetensors" ClassName="Consumer.Lstm1Layer" />\n  </ItemGroup>\n  <PropertyGroup>\n    <PublishAot>true</PublishAot>\n    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>\n  </PropertyGroup>\n</Project>#' Consumer.csproj
cat Consumer.csproj

echo
echo "== consumer build: the weights are packed by the package's precompiled task (no inline task compiled)"
dotnet build -c Release -v d > build.log 2>&1 || { tail -30 build.log; fail "the consumer did not build"; }
grep -q 'Using "RnnPackWeightFile" task from assembly ".*/tasks/netstandard2.0/RnnEmbedded.Tasks.dll"' build.log \
    || fail "the consumer's build did not run RnnPackWeightFile from the package's tasks/netstandard2.0/RnnEmbedded.Tasks.dll: $(grep -m1 'RnnPackWeightFile' build.log)"
echo "  RnnPackWeightFile from tasks/netstandard2.0/RnnEmbedded.Tasks.dll"

echo
echo "== consumer, JIT: dotnet run -c Release"
dotnet run -c Release -- lstm_1layer.expected.txt > jit.txt || { cat jit.txt; fail "the consumer (JIT) failed"; }
tail -3 jit.txt
grep -q '^summary: steps 9 .* steady_state_bytes_allocated 0$' jit.txt || fail "the consumer (JIT) printed no summary for 9 steps, or allocated"

echo
echo "== generated code carries the package version"
generated=$(find obj/Release -path '*RnnEmbedded.Generators*' -name '*.g.cs' | head -1)
[[ -n "$generated" ]] || fail "no generated source was written"
grep -o 'GeneratedCode([^]]*)' "$generated" | head -1
grep -q "GeneratedCode(\"RnnEmbedded.Generators\", \"$VERSION\")" "$generated" \
    || fail "[GeneratedCode] in $generated does not carry the package version $VERSION"

echo
echo "== tool: dotnet tool install RnnEmbedded.Cli --tool-path … --add-source artifacts/packages --prerelease"
dotnet tool install RnnEmbedded.Cli --tool-path "$WORK/tools" --add-source "$FEED" --prerelease
"$WORK/tools/rnn" inspect models/lstm_1layer.safetensors | tee inspect.txt
grep -q '^layers: 1' inspect.txt || fail "rnn inspect did not describe a one-layer model"
tokens=$(sed -n 's/^tokens //p' lstm_1layer.expected.txt | tr ' ' ',')
"$WORK/tools/rnn" run models/lstm_1layer.safetensors --tokens "$tokens" > run.txt
head -2 run.txt
# rnn run prints one line of outputs per step; PyTorch's are the fixture's "output" lines.
python3 - run.txt lstm_1layer.expected.txt <<'PY' || fail "rnn run's outputs differ from PyTorch's"
import sys
got = [[float(v) for v in l.split()] for l in open(sys.argv[1]) if l.strip()]
exp = [[float(v) for v in l.split()[1:]] for l in open(sys.argv[2]) if l.startswith("output ")]
assert len(got) == len(exp), f"{len(got)} lines from rnn run, {len(exp)} from PyTorch"
worst = max(abs(a - b) for g, e in zip(got, exp) for a, b in zip(g, e, strict=True))
print(f"rnn run vs PyTorch: {len(got)} steps, max abs diff {worst:.3g}")
assert worst <= 1e-5, worst
PY

echo
echo "== consumer, NativeAOT: dotnet publish -c Release -r linux-x64"
dotnet publish -c Release -r linux-x64 -o "$WORK/aot" -v q -nologo
ls -l "$WORK/aot/Consumer" | awk '{ print "binary: " $5 " bytes" }'
"$WORK/aot/Consumer" lstm_1layer.expected.txt > aot.txt || { cat aot.txt; fail "the consumer (NativeAOT) failed"; }
tail -1 aot.txt
summary=$(grep '^summary:' aot.txt) || fail "the NativeAOT consumer printed no summary"
[[ "$summary" == *" gc_collections 0 "* ]] || fail "garbage collections in the NativeAOT consumer: $summary"
[[ "$summary" == *" steady_state_bytes_allocated 0" ]] || fail "the NativeAOT consumer's steps allocated: $summary"
# Both builds are within 1e-5 of PyTorch (checked by the program); bit-identical only when both pick the same vector width.
if diff <(grep '^step ' jit.txt) <(grep '^step ' aot.txt) >/dev/null; then
    echo "NativeAOT and JIT outputs: bit-identical"
else
    echo "NativeAOT and JIT outputs: both within 1e-5 of PyTorch, not bit-identical (the default NativeAOT x64 target has no AVX2, so another vector width runs)"
fi
echo "PACKAGE TEST OK"
