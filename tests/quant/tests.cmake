# The committed quantization golden files must still be what the `gguf` package produces: the
# generator re-derives them and compares byte for byte.
if(Python3_Interpreter_FOUND AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME quant_golden_reproducible
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/gen_quant_golden.py --check)
  set_tests_properties(quant_golden_reproducible PROPERTIES LABELS "unit" SKIP_RETURN_CODE 77)
endif()
