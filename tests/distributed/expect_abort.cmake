# cmake -P script: runs COMMAND (a ;-list) and passes when it exits non-zero within TIMEOUT
# seconds and its output contains EXPECTED. ctest alone can check the exit code (WILL_FAIL) or
# the output (PASS_REGULAR_EXPRESSION), not both.
#
#   cmake -DCOMMAND=... -DEXPECTED=... -DTIMEOUT=... -P expect_abort.cmake

foreach(required COMMAND EXPECTED TIMEOUT)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "expect_abort.cmake: expected -D${required}=..., got none")
  endif()
endforeach()

execute_process(COMMAND ${COMMAND}
                RESULT_VARIABLE result
                OUTPUT_VARIABLE output
                ERROR_VARIABLE output
                TIMEOUT ${TIMEOUT})
message("${output}")

# RESULT_VARIABLE holds the exit code, or a text such as "Process terminated due to timeout".
if(result STREQUAL "0")
  message(FATAL_ERROR "expected the job to fail, got exit code 0")
elseif(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "expected the job to exit non-zero within ${TIMEOUT} s, got: ${result}")
endif()
string(FIND "${output}" "${EXPECTED}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "expected the output to contain \"${EXPECTED}\", got exit code ${result} "
                      "without it")
endif()
message("job failed as expected: exit code ${result}, output contains \"${EXPECTED}\"")
