# factotum_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir])
#
# Builds a factotum plugin: a MODULE library named NAME.so (no "lib" prefix) that exports only
# factotum_plugin_v1 and cannot link against the daemon:
#  - -fvisibility=hidden -fvisibility-inlines-hidden: nothing leaks, and GCC's STB_GNU_UNIQUE
#    symbols cannot tie two plugins (or two generations of one) together (DESIGN.md §4.6);
#  - -Wl,-z,defs: every symbol must resolve at link time, so a plugin that calls into the
#    daemon fails to build instead of failing to load (DESIGN.md §4.3);
#  - -Wl,--exclude-libs,ALL: static libraries linked in stay private too;
#  - a linker version script exporting the entry point(s) alone: libstdc++ declares its
#    namespace with default visibility, so template statics it instantiates in the plugin
#    would otherwise be exported despite -fvisibility=hidden;
#  - -fno-gnu-unique (GCC): such statics would be STB_GNU_UNIQUE, which ties every loaded
#    copy of the plugin (two generations) to one instance and makes the library unloadable.
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
  set(exports ${CMAKE_CURRENT_BINARY_DIR}/${name}.exports)
  file(WRITE ${exports} "{\n  global: factotum_plugin_v*;\n  local: *;\n};\n")
  target_link_options(${name} PRIVATE -Wl,-z,defs -Wl,--exclude-libs,ALL
                      -Wl,--version-script=${exports})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${exports})
  target_compile_options(${name} PRIVATE
    $<$<OR:$<COMPILE_LANG_AND_ID:CXX,GNU>,$<COMPILE_LANG_AND_ID:C,GNU>>:-fno-gnu-unique>)
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${arg_OUTPUT_DIRECTORY})
  endif()
endfunction()
