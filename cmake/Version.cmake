# core/version_generated.cpp carries the git revision. It is rewritten on every build but only
# when the revision changes, so a commit recompiles one small file.
set(PTQAT_VERSION_FILE ${CMAKE_BINARY_DIR}/generated/version_generated.cpp)
add_custom_target(ptqat_version_file
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${PTQAT_VERSION_FILE}
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${PTQAT_VERSION_FILE}
  COMMENT "" VERBATIM)
