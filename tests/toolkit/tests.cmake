# Quantization toolkit tests driven by scripts (each script's docstring says what it checks).
#   toolkit.quantize_formats   a tiny synthetic model through every preset, read back by the gguf
#                              package (label unit, seconds)
#   toolkit.smollm2.*          the real SmolLM2: plans and perplexity against llama.cpp's figures
#                              committed in tests/toolkit/data, imatrix, and (with llama-cpp-python
#                              only) greedy tokens of quantized files in both engines (label golden;
#                              the llama-cpp-python case also slow)
# The scripts exit 77 (ctest SKIP_RETURN_CODE) when numpy/gguf, the model or llama-cpp-python is
# missing, saying which.
if(TARGET pocketlm_cli AND Python3_Interpreter_FOUND AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME toolkit.quantize_formats
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/quant_format_test.py
            --pocketlm $<TARGET_FILE:pocketlm_cli>
            --workdir ${CMAKE_CURRENT_BINARY_DIR}/toolkit/formats)
  set_tests_properties(toolkit.quantize_formats PROPERTIES LABELS unit SKIP_RETURN_CODE 77
    TIMEOUT 300)

  foreach(case plans perplexity imatrix llamacpp)
    add_test(NAME toolkit.smollm2.${case}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/quant_smollm2_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/toolkit/smollm2_${case}
              --case ${case})
    set_tests_properties(toolkit.smollm2.${case} PROPERTIES LABELS golden SKIP_RETURN_CODE 77
      TIMEOUT 1800)
  endforeach()
  # Three quantizations of the whole model plus six generations: minutes on two cores.
  set_tests_properties(toolkit.smollm2.llamacpp PROPERTIES LABELS "golden;slow")
endif()
