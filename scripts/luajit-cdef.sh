#!/bin/sh
# Prints csession's public API as plain C declarations that LuaJIT's
# ffi.cdef() accepts whole: the preprocessed <csession.h>, without the
# system headers (LuaJIT knows size_t and the <stdint.h> types itself) and
# without GCC attributes.
#
# usage: scripts/luajit-cdef.sh [CPPFLAGS...]
#   CPPFLAGS: where <csession.h> and <csession/version.h> are, e.g.
#   -Iinclude -Ibuild/include for a build tree; default: the installed
#   headers (`pkg-config --cflags-only-I csession`, else the compiler's own
#   search path).
#
#   scripts/luajit-cdef.sh > csession_cdef.h
#   local ffi = require("ffi")
#   ffi.cdef(io.open("csession_cdef.h"):read("*a"))
#   local cs = ffi.load("csession")      -- libcsession.so.0 through ld.so's cache
#
# Environment: CC (default cc).
set -eu
: "${CC:=cc}"
stubs=$(mktemp -d)
trap 'rm -rf "$stubs"' EXIT
# Empty stand-ins: -nostdinc keeps the compiler's and the C library's
# headers out, whichever compiler it is.
: >"$stubs/stddef.h"
: >"$stubs/stdint.h"
if [ $# -eq 0 ] && command -v pkg-config >/dev/null 2>&1 && pkg-config --exists csession; then
    # shellcheck disable=SC2046
    set -- $(pkg-config --cflags-only-I csession)
fi
# Without -I flags the installed headers are found where the compiler looks
# by default; -nostdinc drops those directories, so name them again.
if [ $# -eq 0 ]; then
    for d in /usr/local/include /usr/include; do
        [ -f "$d/csession.h" ] && set -- "-I$d" && break
    done
fi
printf '#include <csession.h>\n' |
    "$CC" -E -P -U__GNUC__ -U__clang__ -nostdinc -isystem "$stubs" "$@" -x c - |
    grep -v '^[[:space:]]*$'
