#!/usr/bin/env bash
# Builds the native anchor solvers of ../shared/bench/anchors into
# tooling/anchors/bin (git-ignored), installing Debian's libmaxflow-dev when
# it is missing and apt-get is usable. Benchmarks and the agreement tests look
# for the binaries here (or in $SEG_ANCHORS_BIN) and say so when they skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${SEG_SHARED:-$here/../../../shared}/bench/anchors
[ -d "$src" ] || { echo "no anchors folder at $src"; exit 1; }
if ! pkg-config --exists maxflow 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq libmaxflow-dev >/dev/null
  else
    echo "libmaxflow-dev is missing and cannot be installed here"; exit 1
  fi
fi
mkdir -p "$here/bin"
for s in maxflow_bk alpha_expansion_bk; do
  g++ -O2 -march=native -std=c++17 $(pkg-config --cflags maxflow) "$src/$s.cpp" -o "$here/bin/$s" $(pkg-config --libs maxflow)
  echo "built $here/bin/$s"
done
