# Run by `cmake --install` after the shared library is in place.
#
# A library installed into a directory that the dynamic linker's cache covers
# (/usr/local/lib on Debian and Ubuntu) is found by programs only once the
# cache is rebuilt: ldconfig does that, as libtool's installs do. Staging
# into DESTDIR (packaging) leaves the cache alone; a prefix the linker does
# not search is reported with what to do instead.
if(NOT "$ENV{DESTDIR}" STREQUAL "")
  return()
endif()
if(IS_ABSOLUTE "${CSESSION_INSTALL_LIBDIR}")
  set(csession_libdir "${CSESSION_INSTALL_LIBDIR}")
else()
  set(csession_libdir "${CMAKE_INSTALL_PREFIX}/${CSESSION_INSTALL_LIBDIR}")
endif()
get_filename_component(csession_libdir "${csession_libdir}" REALPATH)
find_program(csession_ldconfig ldconfig PATHS /sbin /usr/sbin)
if(NOT csession_ldconfig)
  return()
endif()

# `ldconfig -v -N -X` lists the directories it covers ("/usr/local/lib: (from
# /etc/ld.so.conf.d/libc.conf:2)") without changing anything.
execute_process(COMMAND "${csession_ldconfig}" -v -N -X
                OUTPUT_VARIABLE csession_ld_dirs ERROR_QUIET RESULT_VARIABLE csession_rc)
set(csession_on_path FALSE)
string(REGEX MATCHALL "(^|\n)/[^:\n]*:" csession_ld_dirs "${csession_ld_dirs}")
foreach(d ${csession_ld_dirs})
  string(REGEX REPLACE "^\n?(.*):$" "\\1" d "${d}")
  get_filename_component(d "${d}" REALPATH)
  if(d STREQUAL csession_libdir)
    set(csession_on_path TRUE)
  endif()
endforeach()

if(csession_on_path)
  execute_process(COMMAND "${csession_ldconfig}" RESULT_VARIABLE csession_rc
                  OUTPUT_QUIET ERROR_QUIET)
  if(csession_rc EQUAL 0)
    message(STATUS "Refreshed the dynamic linker's cache (ldconfig) for ${csession_libdir}")
  else()
    message(STATUS "Run 'sudo ldconfig' so that programs find libcsession in ${csession_libdir}")
  endif()
else()
  message(STATUS "${csession_libdir} is not searched by the dynamic linker: link programs "
                 "with -Wl,-rpath,${csession_libdir} (or add the directory to "
                 "/etc/ld.so.conf.d/ and run ldconfig)")
endif()
