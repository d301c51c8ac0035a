# Run by `cmake --install` (see cmake/python.cmake): writes csession/_paths.py
# into the installed package, naming the shared library's directory relative
# to the package and absolute. Computed now rather than at configure time, so
# that `--prefix` given to `cmake --install` counts.
#
# In: CSESSION_PY_DEST, CSESSION_LIB_DEST (relative to the prefix, or
# absolute), CSESSION_LIB_FILE (the library's soname file).
foreach(what PY LIB)
  if(IS_ABSOLUTE "${CSESSION_${what}_DEST}")
    set(abs_${what} "${CSESSION_${what}_DEST}")
  else()
    set(abs_${what} "${CMAKE_INSTALL_PREFIX}/${CSESSION_${what}_DEST}")
  endif()
endforeach()
file(RELATIVE_PATH rel_lib "${abs_PY}/csession" "${abs_LIB}")
if(rel_lib STREQUAL "")
  set(rel_lib ".")
endif()

# Python string literals: backslashes and quotes escaped.
foreach(v rel_lib abs_LIB CSESSION_LIB_FILE)
  string(REPLACE "\\" "\\\\" ${v} "${${v}}")
  string(REPLACE "\"" "\\\"" ${v} "${${v}}")
endforeach()

set(out "$ENV{DESTDIR}${abs_PY}/csession/_paths.py")
message(STATUS "Installing: ${out}")
file(WRITE "${out}"
"\"\"\"Where `cmake --install` put the shared library (written by it).\"\"\"
LIBRARY_DIR_FROM_PACKAGE = \"${rel_lib}\"
LIBRARY_DIR = \"${abs_LIB}\"
LIBRARY_FILE = \"${CSESSION_LIB_FILE}\"
")
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${out}")
