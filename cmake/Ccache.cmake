# ccache, when present. The sloppiness settings let ccache hit on sources compiled with the
# shared precompiled header (ccache's docs: "Precompiled headers").
find_program(PTQAT_CCACHE ccache)
if(PTQAT_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${PTQAT_CCACHE})
  add_compile_options(-fpch-preprocess)
endif()
