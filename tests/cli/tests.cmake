# End-to-end tests of `pocketlm run` and `pocketlm chat` on the real SmolLM2 model (label e2e):
# one ctest per case of cli_run_test.py. The script exits 77 (ctest SKIP_RETURN_CODE) when the
# model is missing.
if(TARGET pocketlm_cli AND Python3_Interpreter_FOUND)
  set(cli_run_cases
    greedy jsonl seed max_tokens stop_string chat_flag prompt_file default_model errors
    chat_pipe chat_context_full interrupt)
  foreach(case IN LISTS cli_run_cases)
    add_test(NAME cli.run.${case}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/cli_run_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --models ${CMAKE_SOURCE_DIR}/models
              --golden ${CMAKE_SOURCE_DIR}/tests/data/golden/smollm2.json
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/cli_run/${case}
              --case ${case})
    set_tests_properties(cli.run.${case} PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 300)
  endforeach()
endif()
