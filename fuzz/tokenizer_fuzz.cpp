// libFuzzer target for the tokenizer: encode arbitrary bytes with SmolLM2's vocabulary, with and
// without special-token parsing, and check what must hold for any input:
//  - every id is a token of the vocabulary; without special parsing no control token appears;
//  - the ids spell the input back: detokenize gives the input with each malformed UTF-8 byte
//    replaced the way the decoder replaces it, less the bytes the vocabulary has no token for
//    (SmolLM2 lacks 0x04 0x06 0x13 0x14 0x16 0x1D 0xC0 0xC1 0xF1 0xF2 0xF5..0xFF; the reference
//    drops them too). Nothing else may be lost: every merge of this vocabulary yields a token;
//  - encoding is a function of the decoded text: the repaired input gives the same ids;
//  - the streaming detokenizer, fed one id at a time, hands out the same text; when that text
//    is well-formed it hands out only whole UTF-8 sequences and has nothing left to flush.
// A broken invariant aborts (a finding), as do crashes and sanitizer reports.
//
// The vocabulary is models/SmolLM2-135M-Instruct.Q4_1.gguf of this checkout, or the file named
// by POCKETLM_FUZZ_VOCAB. (The SentencePiece tokenizer has its own target,
// spm_tokenizer_fuzz.cpp, whose invariants differ: byte fallback loses nothing.)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"

namespace {

using pocketlm::Tokenizer;

const Tokenizer* g_tok = nullptr;
bool g_dropped[256];  // bytes whose alphabet character is not a token

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "tokenizer_fuzz: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

// The model path beside this source file: <root>/fuzz/tokenizer_fuzz.cpp -> <root>/models/.
std::string default_vocab_path() {
  std::string here = __FILE__;
  const size_t slash = here.rfind("/fuzz/");
  const std::string root = slash == std::string::npos ? "." : here.substr(0, slash);
  return root + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

// The input as the tokenizer sees it: decoded leniently, then re-encoded.
std::string repaired(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) pocketlm::utf8_append(out, pocketlm::utf8_decode(text, pos));
  return out;
}

// True when `chunk` is a whole number of UTF-8 sequences as the decoder reads them.
bool whole_sequences(const std::string& chunk) { return repaired(chunk) == chunk; }

std::string without_dropped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (!g_dropped[static_cast<uint8_t>(c)]) out.push_back(c);
  }
  return out;
}

void check_streaming(const std::vector<int32_t>& ids, bool special, const std::string& expected,
                     std::string_view input) {
  pocketlm::StreamingDetokenizer detok(*g_tok, special);
  const bool well_formed = whole_sequences(expected);
  std::string all;
  for (int32_t id : ids) {
    const std::string out = detok.push(id);
    if (well_formed && !whole_sequences(out)) {
      fail("streaming released part of a UTF-8 sequence", input);
    }
    if (detok.pending() > 3) fail("streaming held back more than 3 bytes", input);
    all += out;
  }
  const std::string tail = detok.flush();
  if (well_formed && !tail.empty()) fail("streaming had bytes left at the end", input);
  if (all + tail != expected) fail("streamed text differs from the input", input);
}

void check(std::string_view input, bool parse_special) {
  const std::vector<int32_t> ids = g_tok->encode(input, false, parse_special);
  for (int32_t id : ids) {
    if (id < 0 || id >= g_tok->n_tokens()) fail("id outside the vocabulary", input);
    if (!parse_special && g_tok->is_control(id)) fail("control token without parsing", input);
  }
  const std::string fixed = repaired(input);
  const std::string expected = without_dropped(fixed);
  if (g_tok->detokenize(ids, false, parse_special) != expected) {
    fail(parse_special ? "detokenize(encode(x, special)) != x" : "detokenize(encode(x)) != x",
         input);
  }
  if (g_tok->encode(fixed, false, parse_special) != ids) {
    fail("the repaired input encodes differently", input);
  }
  check_streaming(ids, parse_special, expected, input);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("POCKETLM_FUZZ_VOCAB");
  const std::string path = env != nullptr ? env : default_vocab_path();
  pocketlm::Result<pocketlm::Vocab> v = pocketlm::load_vocab_gguf(path);
  if (!v.ok()) {
    std::fprintf(stderr, "tokenizer_fuzz: cannot load %s: %s (set POCKETLM_FUZZ_VOCAB)\n",
                 path.c_str(), v.status().message().c_str());
    std::exit(1);
  }
  pocketlm::Result<Tokenizer> t = Tokenizer::create(std::move(*v));
  if (!t.ok()) {
    std::fprintf(stderr, "tokenizer_fuzz: %s\n", t.status().message().c_str());
    std::exit(1);
  }
  g_tok = new Tokenizer(std::move(*t));  // lives for the whole run
  for (int b = 0; b < 256; ++b) {
    g_dropped[b] = g_tok->find_token(pocketlm::byte_to_unicode_utf8(static_cast<uint8_t>(b))) < 0;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input, false);
  check(input, true);
  return 0;
}
