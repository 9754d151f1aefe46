# Policy targets that every product and test target links privately (see ccache's
# standard_settings / standard_warnings). Third-party code never sees them.
add_library(amlops_settings INTERFACE)
add_library(amlops_warnings INTERFACE)

target_compile_options(amlops_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict on std::string concatenation at -O2+ (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # GCC 12 warns on C++20 designated initializers that leave members to their defaults (fixed in 13).
  -Wno-missing-field-initializers)
if(AMLOPS_WERROR)
  target_compile_options(amlops_warnings INTERFACE -Werror)
endif()

target_compile_definitions(amlops_settings INTERFACE
  RAPIDJSON_HAS_STDSTRING=1
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
target_include_directories(amlops_settings INTERFACE ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/generated)

if(AMLOPS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AMLOPS_FUZZ needs clang: -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  target_compile_options(amlops_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(amlops_settings INTERFACE -fsanitize=address,undefined)
endif()

if(AMLOPS_SANITIZE)
  target_compile_options(amlops_settings INTERFACE -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(amlops_settings INTERFACE -fsanitize=address,undefined)
endif()

# Define a library of one area: amlops_area(NAME SOURCES ... DEPS ...)
function(amlops_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_link_libraries(${name} PUBLIC amlops_settings ${A_DEPS} PRIVATE amlops_warnings ${A_PRIVATE_DEPS})
endfunction()

# Define a tool: a library amlops_tool_<name> with run_<name>() and a thin binary amlops-<name>.
# The umbrella `amlops` lists every registered tool (name and summary) and execs amlops-<name>.
set_property(GLOBAL PROPERTY AMLOPS_TOOLS "")
function(amlops_tool name)
  cmake_parse_arguments(A "" "SUMMARY" "SOURCES;DEPS" ${ARGN})
  amlops_library(amlops_tool_${name} SOURCES ${A_SOURCES} DEPS amlops_toolkit ${A_DEPS})
  string(REPLACE "-" "_" ident "${name}")
  set(main_cpp ${CMAKE_BINARY_DIR}/generated/main_${ident}.cpp)
  file(WRITE ${main_cpp}.in "#include \"cli/context.hpp\"\n"
    "namespace amlops { int run_${ident}(Context& ctx, const std::vector<std::string>& args); }\n"
    "int main(int argc, char** argv) { return amlops::tool_main(\"amlops-${name}\", argc, argv, amlops::run_${ident}); }\n")
  configure_file(${main_cpp}.in ${main_cpp} COPYONLY)
  add_executable(amlops-${name} ${main_cpp})
  target_link_libraries(amlops-${name} PRIVATE amlops_tool_${name} amlops_warnings)
  set_property(GLOBAL APPEND PROPERTY AMLOPS_TOOLS "${name}|${A_SUMMARY}")
endfunction()
