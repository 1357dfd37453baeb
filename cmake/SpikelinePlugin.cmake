# spikeline_add_plugin(NAME SOURCES...): a spikeline plugin, a shared
# library (lib<NAME>.so) that exports only spikeline_plugin_init.
#
# The tree uses it for examples/plugins/ and the test plugins; the installed
# package is to export the same function to authors (find_package(spikeline),
# not done yet). The plugin compiles against the headers only
# (spikeline::plugin_headers: spikeline/plugin.h and spikeline/plugin.hpp)
# and links nothing of spikeline's: it is loaded into a simulator built
# separately, so its symbols are hidden (RTLD_LOCAL and -fvisibility=hidden)
# but for the entry point.
function(spikeline_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "spikeline_add_plugin(${name}): no sources")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE spikeline::plugin_headers)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # A plugin must not rely on symbols of the process that loads it.
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Darwin" AND NOT SPIKELINE_SANITIZE)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
