#!/usr/bin/env bash
# Brings src/RnnRuntime/PublicAPI.Unshipped.txt in line with the code after an intended API change:
# builds, adds every symbol RS0016 reports as undeclared and removes every one RS0017 reports as gone.
# Review the diff before committing (docs/architecture.md, "Public surface").
set -euo pipefail
cd "$(dirname "$0")/.."
project=src/RnnRuntime/RnnRuntime.csproj
file=src/RnnRuntime/PublicAPI.Unshipped.txt
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build "$project" -v q -nologo --no-incremental > "$log" 2>&1 || true
python3 - "$file" "$log" <<'PY'
import re, sys
path = sys.argv[1]
log = open(sys.argv[2]).read()
add = set(re.findall(r"RS0016: Symbol '(.+?)' is not part of the declared public API", log))
gone = set(re.findall(r"RS0017: Symbol '(.+?)' is part of the declared API, but is either not public or could not be found", log))
lines = [l for l in open(path).read().splitlines() if l.strip()]
header = [l for l in lines if l.startswith('#')]
# Ordered by symbol, modifiers ignored, as the analyzer's code fix keeps it.
key = lambda l: (re.sub(r'^((static|abstract|virtual|override|const|readonly|sealed) )+', '', l), l)
body = sorted({l for l in lines if not l.startswith('#') and l not in gone} | add, key=key)
open(path, 'w').write('\n'.join(header + body) + '\n')
print(f"{path}: +{len(add)} -{len(gone)}")
PY
