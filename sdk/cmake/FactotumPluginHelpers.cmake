# factotum_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir])
#
# Builds a factotum plugin: a MODULE library named NAME.so (no "lib" prefix) that exports only
# factotum_plugin_v1 and cannot link against the daemon:
#  - -fvisibility=hidden -fvisibility-inlines-hidden: nothing leaks, and GCC's STB_GNU_UNIQUE
#    symbols cannot tie two plugins (or two generations of one) together (DESIGN.md §4.6);
#  - -Wl,-z,defs: every symbol must resolve at link time, so a plugin that calls into the
#    daemon fails to build instead of failing to load (DESIGN.md §4.3);
#  - -Wl,--exclude-libs,ALL: static libraries linked in stay private too.
# Used in-tree and by out-of-tree projects through find_package(FactotumSDK).
function(factotum_add_plugin name)
  cmake_parse_arguments(arg "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "factotum_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE FactotumSDK::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  target_link_options(${name} PRIVATE -Wl,-z,defs -Wl,--exclude-libs,ALL)
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${arg_OUTPUT_DIRECTORY})
  endif()
endfunction()
