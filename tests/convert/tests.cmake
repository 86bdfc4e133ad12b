# `pocketlm convert`: C++ tests of the JSON and safetensors readers, config handling and the
# conversion of the tiny Hugging Face checkpoints in tests/data/hf/ (one gtest executable,
# label unit), and per-family script tests (convert_test.py) that load the converted files with
# the `gguf` package (label unit) and with llama-cpp-python (label golden; skipped, exit 77,
# when the reference venv is absent).
pocketlm_gtest_suite(convert_tests convert "unit")

if(TARGET pocketlm_cli AND Python3_Interpreter_FOUND)
  set(convert_families llama3 mistral qwen2 qwen3 phi3 phi3-longrope mobilellm)
  # llama-cpp-python lives in its own venv (it compiles llama.cpp when installed); point
  # POCKETLM_REF_PYTHON at its interpreter to use another one.
  set(POCKETLM_REF_PYTHON "${CMAKE_SOURCE_DIR}/.venv-ref/bin/python" CACHE FILEPATH
      "Python with llama-cpp-python, for the converted-model reference tests")
  foreach(family IN LISTS convert_families)
    add_test(NAME convert.gguf.${family}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/convert_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --model ${CMAKE_SOURCE_DIR}/tests/data/hf/${family}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/convert/${family}
              --check gguf)
    set_tests_properties(convert.gguf.${family} PROPERTIES LABELS unit SKIP_RETURN_CODE 77
      TIMEOUT 120)
    add_test(NAME convert.llamacpp.${family}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/convert_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --model ${CMAKE_SOURCE_DIR}/tests/data/hf/${family}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/convert/${family}-ref
              --ref-python ${POCKETLM_REF_PYTHON}
              --check llamacpp)
    set_tests_properties(convert.llamacpp.${family} PROPERTIES LABELS golden
      SKIP_RETURN_CODE 77 TIMEOUT 300)
  endforeach()
endif()

# pocketlm's own greedy continuation through `pocketlm run` against transformers'
# (convert_test.py --check engine), for every family the engine runs: llama3 (`llama`, llama3
# RoPE scaling, tied embeddings), mistral (`llama` with a sliding window in every layer), qwen2
# (QKV biases), qwen3 (QK-norm), phi3 and phi3-longrope (fused QKV and gate/up, LongRoPE) and
# mobilellm (`llama` with each block run twice). engine_family_test.cpp (in convert_tests)
# compares the logits and tokenization as well.
set(convert_engine_families llama3 mistral qwen2 qwen3 phi3 phi3-longrope mobilellm)
if(TARGET pocketlm_cli AND Python3_Interpreter_FOUND)
  foreach(family IN LISTS convert_engine_families)
    add_test(NAME convert.engine.${family}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/convert_test.py
              --pocketlm $<TARGET_FILE:pocketlm_cli>
              --model ${CMAKE_SOURCE_DIR}/tests/data/hf/${family}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/convert/${family}-engine
              --check engine)
    set_tests_properties(convert.engine.${family} PROPERTIES LABELS unit TIMEOUT 300)
  endforeach()
endif()
