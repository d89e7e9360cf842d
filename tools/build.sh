#!/usr/bin/env bash
# Builds the ecosystem tools pinned in tools/go/go.mod (grpc_health_probe,
# grpcurl, ghz) into tools/.cache/bin/ through the Go module proxy. The tests
# in test/ecosystem-*.test.ts run these binaries and fail when one is missing.
# Nothing here is committed; the cache is git-ignored.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$here/.cache/bin"

if ! command -v go >/dev/null 2>&1; then
  echo "tools/build.sh: 'go' not found on PATH; Go 1.26+ is required to build grpcurl, ghz and grpc_health_probe" >&2
  exit 1
fi

mkdir -p "$bin"
cd "$here/go"

# Rebuild only when a binary is missing or older than go.sum (a version bump).
fresh=true
for tool in grpc_health_probe grpcurl ghz; do
  [[ -x "$bin/$tool" && "$bin/$tool" -nt go.sum ]] || fresh=false
done
if $fresh; then
  echo "tools/build.sh: using cached binaries in $bin"
  exit 0
fi

echo "tools/build.sh: building grpc_health_probe, grpcurl and ghz..."
go build -o "$bin/grpc_health_probe" github.com/grpc-ecosystem/grpc-health-probe
go build -o "$bin/grpcurl" github.com/fullstorydev/grpcurl/cmd/grpcurl
go build -o "$bin/ghz" github.com/bojand/ghz/cmd/ghz
echo "tools/build.sh: binaries in $bin"
