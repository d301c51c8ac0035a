# The Python package (python/csession): installed beside the shared library,
# into the site directory the interpreter searches for this prefix.
#
#   CSESSION_PYTHON3             the interpreter the package is installed for
#                                and tested with. The system's python3
#                                (/usr/bin) is preferred over others on PATH,
#                                since a system prefix holds its site
#                                directories; name another one (a
#                                virtualenv's) to install and test for it.
#   CSESSION_INSTALL_PYTHON      install the package (ON; needs the shared
#                                library).
#   CSESSION_PYTHON_INSTALL_DIR  where, relative to the prefix or absolute;
#                                empty (the default): asked of the
#                                interpreter at configure time
#                                (cmake/python_site_dir.py), e.g.
#                                lib/python3.11/dist-packages on Debian.
#
# The installed package finds the installed library through csession/_paths.py,
# which `cmake --install` writes with the library's place relative to the
# package (so that a moved prefix still works) and absolute.
find_program(CSESSION_PYTHON3 NAMES python3 HINTS /usr/bin
  DOC "The Python interpreter the package is installed for and tested with")
option(CSESSION_INSTALL_PYTHON "Install the Python package" ON)
set(CSESSION_PYTHON_INSTALL_DIR "" CACHE STRING
  "Where to install the Python package, relative to the prefix or absolute (empty: ask python3)")

set(CSESSION_PYTHON_DIR "")
if(CSESSION_INSTALL_PYTHON AND CSESSION_BUILD_SHARED)
  set(CSESSION_PYTHON_DIR "${CSESSION_PYTHON_INSTALL_DIR}")
  if(NOT CSESSION_PYTHON_DIR AND CSESSION_PYTHON3)
    execute_process(
      COMMAND ${CSESSION_PYTHON3} ${PROJECT_SOURCE_DIR}/cmake/python_site_dir.py
              ${CMAKE_INSTALL_PREFIX}
      OUTPUT_VARIABLE CSESSION_PYTHON_DIR OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE csession_python_rc)
    if(NOT csession_python_rc EQUAL 0)
      set(CSESSION_PYTHON_DIR "")
    endif()
  endif()
  if(CSESSION_PYTHON_DIR)
    message(STATUS "Python package: ${CSESSION_PYTHON_DIR}/csession")
    install(DIRECTORY python/csession DESTINATION ${CSESSION_PYTHON_DIR}
      FILES_MATCHING PATTERN "*.py"
      PATTERN "_paths.py" EXCLUDE
      PATTERN "__pycache__" EXCLUDE)
    install(CODE "
      set(CSESSION_PY_DEST \"${CSESSION_PYTHON_DIR}\")
      set(CSESSION_LIB_DEST \"${CMAKE_INSTALL_LIBDIR}\")
      set(CSESSION_LIB_FILE \"$<TARGET_SONAME_FILE_NAME:csession>\")
      include(\"${PROJECT_SOURCE_DIR}/cmake/python_paths.cmake\")")
  else()
    message(STATUS "python3 not found: the Python package is not installed "
                   "(set CSESSION_PYTHON3 or CSESSION_PYTHON_INSTALL_DIR)")
  endif()
elseif(CSESSION_INSTALL_PYTHON)
  message(STATUS "The Python package is not installed: it needs the shared library")
endif()
