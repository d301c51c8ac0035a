#!/bin/sh
# Installs the build tree into a scratch prefix, then builds and runs a small
# program against it through find_package(csession) and through pkg-config,
# the way README.md's "Building against it" tells, shared and static. Every
# program runs without LD_LIBRARY_PATH: the shared ones find the library by
# the RPATH they were linked with, the static ones need no libcsession.so.
# usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER
set -eu
build=$1 src=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
unset LD_LIBRARY_PATH

fail() { echo "consumer: $*" >&2; exit 1; }

# Whether a program needs libcsession.so at run time.
needs_shared() { readelf -d "$1" | grep -q 'NEEDED.*libcsession\.so'; }

# Installing writes a manifest into the build tree: install_manifest.txt
# belongs to root once README's `sudo cmake --install build` has run, so
# this install (of every file: they are all in the default component) keeps
# a manifest of its own.
cmake --install "$build" --prefix "$prefix" --component Unspecified >"$work/install.log"
# A prefix the dynamic linker does not search: the install says what to do.
grep -q -- '-Wl,-rpath,' "$work/install.log" ||
    fail "the install did not say how to reach a library outside the linker's path"

echo "== find_package(csession)"
# Sanitizer flags of the build tree, if any, must reach the consumer too.
extra=${CSESSION_CONSUMER_FLAGS:-}
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$extra" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_shared"
needs_shared "$work/cmake/consumer_shared" || fail "consumer_shared does not use libcsession.so"
"$work/cmake/consumer_static"
! needs_shared "$work/cmake/consumer_static" || fail "consumer_static needs libcsession.so"

echo "== pkg-config csession"
pc_dir=$(dirname "$(find "$prefix" -name csession.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc_dir"
pkg-config --exists csession
libdir=$(pkg-config --variable=libdir csession)
# What libcsession.a needs comes with --static only.
for lib in -lsodium -lhiredis -lcjson -pthread; do
    pkg-config --static --libs csession | grep -q -- "$lib" ||
        fail "pkg-config --static --libs csession lacks $lib"
done
# Shared, with the RPATH the install asked for.
# shellcheck disable=SC2046,SC2086
"$cc" $extra -o "$work/pc_shared" "$src/main.c" $(pkg-config --cflags --libs csession) \
    -Wl,-rpath,"$libdir"
"$work/pc_shared"
needs_shared "$work/pc_shared" || fail "pc_shared does not use libcsession.so"
# Static, as README says: -Bstatic makes -lcsession take libcsession.a,
# --static adds what it needs, --as-needed drops the libcsession.so that the
# second -lcsession would add.
# shellcheck disable=SC2046,SC2086
"$cc" $extra -o "$work/pc_static" "$src/main.c" $(pkg-config --cflags csession) \
    -Wl,--as-needed,-Bstatic -lcsession -Wl,-Bdynamic $(pkg-config --libs --static csession)
"$work/pc_static"
! needs_shared "$work/pc_static" || fail "pc_static needs libcsession.so"
echo "consumer: ok"
