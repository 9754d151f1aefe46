# Every dependency comes from Debian's packages. A missing one stops configuration with the
# package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

macro(amlops_require_pkg var module debian_pkg)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debian_pkg}")
  endif()
endmacro()

amlops_require_pkg(CURL libcurl libcurl4-openssl-dev)
amlops_require_pkg(YAMLCPP yaml-cpp libyaml-cpp-dev)
amlops_require_pkg(LIBGIT2 libgit2 libgit2-dev)
amlops_require_pkg(SQLITE3 sqlite3 libsqlite3-dev)
amlops_require_pkg(OPENSSL openssl libssl-dev)

find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h)
if(NOT RAPIDJSON_INCLUDE_DIR)
  message(FATAL_ERROR "RapidJSON not found: apt-get install rapidjson-dev")
endif()
add_library(dep_rapidjson INTERFACE)
target_include_directories(dep_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})

find_path(FASTFLOAT_INCLUDE_DIR fast_float/fast_float.h)
if(NOT FASTFLOAT_INCLUDE_DIR)
  message(FATAL_ERROR "fast_float not found: apt-get install libfast-float-dev")
endif()
add_library(dep_fastfloat INTERFACE)
target_include_directories(dep_fastfloat SYSTEM INTERFACE ${FASTFLOAT_INCLUDE_DIR})

find_package(Boost 1.74 QUIET COMPONENTS program_options unit_test_framework)
if(NOT Boost_FOUND)
  message(FATAL_ERROR "Boost not found: apt-get install libboost-dev libboost-program-options-dev libboost-test-dev")
endif()
find_path(BEAST_INCLUDE_DIR boost/beast.hpp)
if(NOT BEAST_INCLUDE_DIR)
  message(FATAL_ERROR "Boost.Beast not found: apt-get install libboost-dev")
endif()

find_package(Threads REQUIRED)
