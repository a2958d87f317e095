function(ptqat_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Winvalid-pch)
endfunction()

# Executables compile their own sources with -fPIC like the libraries (instead of CMake's -fPIE),
# because GCC refuses a precompiled header built with different PIC settings and would silently
# compile every test file without it.
function(ptqat_executable_flags target)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(${target} PRIVATE -fPIC -Winvalid-pch)
endfunction()
