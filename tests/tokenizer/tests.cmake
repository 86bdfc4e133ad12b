# Tokenizer tests against llama.cpp's ids over the tokenizer corpus (tests/data/tokenizer/), for
# SmolLM2 (byte-level BPE) and Gemma 3 (SentencePiece). They need the models'
# files, models/SmolLM2-135M-Instruct.Q4_1.gguf and models/gemma-3-270m-q4_k_m.gguf (each
# model's tests are skipped with a message when its file is absent), and run in about a second,
# hence both labels.
pocketlm_gtest_suite(tokenizer_tests tokenizer "golden;unit")

# The generated part of the corpus must still be what its (standard-library only) script writes.
if(Python3_Interpreter_FOUND AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME tokenizer_corpus_reproducible
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/gen_tokenizer_corpus.py
                   --check)
  set_tests_properties(tokenizer_corpus_reproducible PROPERTIES LABELS "unit")
endif()
