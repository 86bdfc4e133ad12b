# GGUF format tests: round trips with the `gguf` Python package (label unit) and the real models
# in models/ (label golden). The scripts exit 77 (ctest SKIP_RETURN_CODE) when the gguf module or
# a model is missing, saying which.
add_executable(gguf_write_sample ${CMAKE_CURRENT_LIST_DIR}/gguf_write_sample.cpp)
target_link_libraries(gguf_write_sample PRIVATE pocketlm)

if(TARGET pocketlm_cli)
  # The CLI reports the project version.
  add_test(NAME cli.version COMMAND pocketlm_cli --version)
  set_tests_properties(cli.version PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "^pocketlm ${PROJECT_VERSION}\n$")

  if(Python3_Interpreter_FOUND)
    add_test(NAME format.gguf_roundtrip
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/gguf_roundtrip.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --write-sample $<TARGET_FILE:gguf_write_sample>
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/gguf_roundtrip)
    set_tests_properties(format.gguf_roundtrip PROPERTIES LABELS unit SKIP_RETURN_CODE 77
      TIMEOUT 120)

    add_test(NAME format.real_models
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/real_models.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --models ${CMAKE_SOURCE_DIR}/models
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/real_models)
    set_tests_properties(format.real_models PROPERTIES LABELS golden SKIP_RETURN_CODE 77
      TIMEOUT 900)
  endif()
endif()
