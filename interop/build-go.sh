#!/usr/bin/env bash
# Builds the grpc-go interop server and client pinned in interop/go/go.mod,
# and our grpc-go cancel-storm client (interop/go/cancelstorm), into interop/.cache/bin/, and copies the grpc-go test TLS files into
# interop/.cache/certs/. Nothing here is committed; the cache is git-ignored.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="$here/.cache"
bin="$cache/bin"
certs="$cache/certs"

if ! command -v go >/dev/null 2>&1; then
  echo "build-go.sh: 'go' not found on PATH; Go 1.24+ is required for the interop matrix" >&2
  exit 1
fi

mkdir -p "$bin" "$certs"
cd "$here/go"

# Rebuild only when a binary is missing or older than go.sum (a version bump).
if [[ -x "$bin/server" && -x "$bin/client" && "$bin/server" -nt go.sum && "$bin/client" -nt go.sum ]]; then
  echo "build-go.sh: using cached binaries in $bin"
else
  echo "build-go.sh: building grpc-go interop server and client..."
  go build -o "$bin/" google.golang.org/grpc/interop/server google.golang.org/grpc/interop/client
fi
if [[ -x "$bin/cancel-storm" && "$bin/cancel-storm" -nt go.sum && "$bin/cancel-storm" -nt cancelstorm/main.go ]]; then
  echo "build-go.sh: using cached cancel-storm client"
else
  echo "build-go.sh: building the grpc-go cancel-storm client..."
  go build -o "$bin/cancel-storm" ./cancelstorm
fi

# Our own small grpc-go server with keepalive enforcement (used by test/keepalive-go.test.ts).
if [[ -x "$bin/keepalive-server" && "$bin/keepalive-server" -nt go.sum && "$bin/keepalive-server" -nt keepaliveserver/main.go ]]; then
  :
else
  echo "build-go.sh: building keepalive-server..."
  go build -o "$bin/keepalive-server" ./keepaliveserver
fi

# The Go binaries default to these files (found via their source path), so
# using them for our side too makes both directions agree on the test CA.
# The server cert is for *.test.google.fr: clients override the host name
# with foo.test.google.fr.
moddir="$(go list -m -f '{{.Dir}}' google.golang.org/grpc)"
for f in ca.pem server1.pem server1.key; do
  if [[ ! -f "$certs/$f" || "$moddir/testdata/$f" -nt "$certs/$f" ]]; then
    cp "$moddir/testdata/$f" "$certs/$f"
    chmod 644 "$certs/$f"
  fi
done
echo "build-go.sh: binaries in $bin, certs in $certs"
