# End-to-end tests of `pocketlm bench` on the real SmolLM2 model (label e2e): one ctest per case
# of bench_cli_test.py. Tiny sizes (-p 8 -n 4 -r 1) keep each case to seconds; no case asserts
# anything about speed. The script exits 77 (ctest SKIP_RETURN_CODE) when the model is missing.
if(TARGET pocketlm_cli AND Python3_Interpreter_FOUND)
  set(bench_cli_cases errors json csv markdown plot)
  foreach(case IN LISTS bench_cli_cases)
    add_test(NAME cli.bench.${case}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/bench_cli_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --models ${CMAKE_SOURCE_DIR}/models
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/bench_cli/${case}
              --case ${case})
    set_tests_properties(cli.bench.${case} PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 300)
  endforeach()
endif()
