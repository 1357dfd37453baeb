# spikeline_add_plugin(NAME SOURCES...): a spikeline plugin, a shared
# library (lib<NAME>.so) that exports only spikeline_plugin_init.
#
# One definition for two users: the tree (examples/plugins/, the test
# plugins), where spikeline::plugin_headers is an alias of the in-tree
# target, and authors, to whom `cmake --install` ships this file beside
# spikelineConfig.cmake, where it is the imported target of the installed
# headers. The plugin compiles against the headers only
# (spikeline/plugin.h and spikeline/plugin.hpp) and links nothing of
# spikeline's: it is loaded into a simulator built separately, so its
# symbols are hidden (RTLD_LOCAL and -fvisibility=hidden) but for the entry
# point.
function(spikeline_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "spikeline_add_plugin(${name}): no sources")
  endif()
  if(NOT TARGET spikeline::plugin_headers)
    message(FATAL_ERROR "spikeline_add_plugin(${name}): no target spikeline::plugin_headers "
                        "(call find_package(spikeline) first, in this directory or above)")
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
