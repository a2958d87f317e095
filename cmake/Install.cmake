# `cmake --install` puts the libraries (ptqat::core ... ptqat::runner), their headers, the ptqat
# executable and a CMake package in the prefix, so another project does
#   find_package(ptqat REQUIRED)
#   target_link_libraries(my_target PRIVATE ptqat::quant)
# (docs/library.md; examples/custom_model builds that way).
include(CMakePackageConfigHelpers)

install(TARGETS ptqat RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(PTQAT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ptqat)
install(EXPORT ptqatTargets NAMESPACE ptqat:: DESTINATION ${PTQAT_CMAKE_DIR})
configure_package_config_file(cmake/ptqatConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ptqatConfig.cmake INSTALL_DESTINATION ${PTQAT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ptqatConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ptqatConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/ptqatConfigVersion.cmake
        DESTINATION ${PTQAT_CMAKE_DIR})
