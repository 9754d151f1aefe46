# The version and the git commit it was built from, for every tool's --version. The header is
# rewritten at build time (only when the commit changed), so a rebuild after a commit reports the
# new commit without reconfiguring.
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated)
set(AMLOPS_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/amlops_version.hpp)
add_custom_target(amlops_version_header
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${AMLOPS_VERSION_HEADER}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${AMLOPS_VERSION_HEADER}
  COMMENT "" VERBATIM)
