# The C API end to end on the real SmolLM2 model (label e2e; exit code 77 = the model file is
# absent, reported as skipped). capi_test is compiled as C11 to prove the header is plain C; it
# links with the C++ driver because the library needs the C++ runtime.
add_executable(capi_test ${CMAKE_CURRENT_LIST_DIR}/capi_test.c)
set_target_properties(capi_test PROPERTIES
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF LINKER_LANGUAGE CXX)
target_link_libraries(capi_test PRIVATE pocketlm)
add_test(NAME capi.c_api
  COMMAND capi_test ${CMAKE_SOURCE_DIR}/models/SmolLM2-135M-Instruct.Q4_1.gguf
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(capi.c_api PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 300)

# The C++ wrapper (pocketlm.hpp) and the runtime Session on the same model, one gtest case each.
pocketlm_gtest_suite(capi_tests capi "e2e")
