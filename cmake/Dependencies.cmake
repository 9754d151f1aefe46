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

# mbed TLS 2.28 has no pkg-config file in Debian 12. core's HMAC; the static libcurl's TLS.
if(AMLOPS_STATIC)
  set(mbed_a .a)  # libmbedtls.a etc. by their file names
else()
  set(mbed_a "")
endif()
find_path(MBEDTLS_INCLUDE_DIR mbedtls/md.h)
find_library(AMLOPS_MBEDTLS_LIB NAMES libmbedtls${mbed_a} mbedtls)
find_library(AMLOPS_MBEDX509_LIB NAMES libmbedx509${mbed_a} mbedx509)
find_library(AMLOPS_MBEDCRYPTO_LIB NAMES libmbedcrypto${mbed_a} mbedcrypto)
if(NOT MBEDTLS_INCLUDE_DIR OR NOT AMLOPS_MBEDTLS_LIB OR NOT AMLOPS_MBEDX509_LIB OR NOT AMLOPS_MBEDCRYPTO_LIB)
  message(FATAL_ERROR "mbed TLS not found: apt-get install libmbedtls-dev")
endif()
add_library(dep_mbedtls INTERFACE)
target_include_directories(dep_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(dep_mbedtls INTERFACE ${AMLOPS_MBEDTLS_LIB} ${AMLOPS_MBEDX509_LIB} ${AMLOPS_MBEDCRYPTO_LIB})

# -DAMLOPS_STATIC=ON (make static): every library from its static archive (pkg-config --static,
# .a only), libcurl from the minimal build of scripts/packaging/build-static-curl.sh, whose folder
# is AMLOPS_CURL_STATIC_DIR; the executables are linked with -static.
if(AMLOPS_STATIC)
  if(NOT AMLOPS_CURL_STATIC_DIR OR NOT EXISTS "${AMLOPS_CURL_STATIC_DIR}/lib/libcurl.a")
    message(FATAL_ERROR "AMLOPS_STATIC needs -DAMLOPS_CURL_STATIC_DIR=DIR, the folder that "
                        "scripts/packaging/build-static-curl.sh prints (make static runs it)")
  endif()
  set(PKG_CONFIG_ARGN --static)
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  set(Boost_USE_STATIC_LIBS ON)
  # Unused functions and data (ours and the archives') are dropped at link time.
  add_compile_options(-ffunction-sections -fdata-sections)
  add_link_options(-static -Wl,--gc-sections)
  find_library(AMLOPS_CARES_A libcares.a)
  if(NOT AMLOPS_CARES_A)
    message(FATAL_ERROR "libcares.a not found: apt-get install libc-ares-dev")
  endif()
  pkg_check_modules(ZLIB_FOR_CURL REQUIRED IMPORTED_TARGET zlib)
  # The static libcurl's TLS is mbed TLS (libgit2 links it anyway), not OpenSSL: see
  # build-static-curl.sh. Its archives by path, after libcurl.a on the link line.
  add_library(PkgConfig::CURL INTERFACE IMPORTED)
  target_include_directories(PkgConfig::CURL SYSTEM INTERFACE "${AMLOPS_CURL_STATIC_DIR}/include")
  target_link_libraries(PkgConfig::CURL INTERFACE "${AMLOPS_CURL_STATIC_DIR}/lib/libcurl.a" "${AMLOPS_CARES_A}"
                        ${AMLOPS_MBEDTLS_LIB} ${AMLOPS_MBEDX509_LIB} ${AMLOPS_MBEDCRYPTO_LIB} PkgConfig::ZLIB_FOR_CURL)
else()
  amlops_require_pkg(CURL libcurl libcurl4-openssl-dev)
endif()
amlops_require_pkg(YAMLCPP yaml-cpp libyaml-cpp-dev)
amlops_require_pkg(LIBGIT2 libgit2 libgit2-dev)
if(AMLOPS_STATIC)
  # Debian's libgit2.a needs GSSAPI, which has no static archive in Debian (see the file).
  add_library(amlops_gssapi_stub STATIC ${CMAKE_CURRENT_LIST_DIR}/static/gssapi_stub.c)
  # libssh2 (ssh:// remotes, which amlops never uses) is replaced by stand-ins: the real one links
  # most of OpenSSL's libcrypto into every binary that reads a repository (see the file).
  add_library(amlops_libssh2_stub STATIC ${CMAKE_CURRENT_LIST_DIR}/static/libssh2_stub.c)
  get_target_property(git_libs PkgConfig::LIBGIT2 INTERFACE_LINK_LIBRARIES)
  list(FILTER git_libs EXCLUDE REGEX "libssh2|^-lssh2$|^ssh2$")
  set_target_properties(PkgConfig::LIBGIT2 PROPERTIES INTERFACE_LINK_LIBRARIES "${git_libs}")
  target_link_libraries(PkgConfig::LIBGIT2 INTERFACE amlops_gssapi_stub amlops_libssh2_stub)
endif()
amlops_require_pkg(SQLITE3 sqlite3 libsqlite3-dev)
amlops_require_pkg(OPENSSL openssl libssl-dev)
amlops_require_pkg(PUGIXML pugixml libpugixml-dev)

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
