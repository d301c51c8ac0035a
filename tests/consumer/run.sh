#!/bin/sh
# Installs the build tree into a scratch prefix, then builds and runs a small
# program against it through find_package(csession) and through pkg-config.
# usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER
set -eu
build=$1 src=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null

echo "== find_package(csession)"
# Sanitizer flags of the build tree, if any, must reach the consumer too.
extra=${CSESSION_CONSUMER_FLAGS:-}
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$extra" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"

echo "== pkg-config csession"
pc_dir=$(dirname "$(find "$prefix" -name csession.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc_dir"
pkg-config --exists csession
# shellcheck disable=SC2046
"$cc" $extra -o "$work/pc_shared" "$src/main.c" $(pkg-config --cflags --libs csession) \
    -Wl,-rpath,"$(pkg-config --variable=libdir csession)"
"$work/pc_shared"
# shellcheck disable=SC2046
"$cc" $extra -o "$work/pc_static" "$src/main.c" $(pkg-config --cflags csession) \
    "$(pkg-config --variable=libdir csession)/libcsession.a" $(pkg-config --libs --static csession | sed 's/-lcsession//')
"$work/pc_static"
echo "consumer: ok"
