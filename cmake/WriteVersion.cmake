# cmake -DSRC=... -DOUT=... -DVERSION=... -P WriteVersion.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SRC}
  OUTPUT_VARIABLE AMLOPS_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT AMLOPS_GIT_COMMIT)
  set(AMLOPS_GIT_COMMIT "unknown")
endif()
set(PROJECT_VERSION ${VERSION})
configure_file(${SRC}/cmake/version.hpp.in ${OUT} @ONLY)
