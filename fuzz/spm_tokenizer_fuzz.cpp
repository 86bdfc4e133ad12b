// libFuzzer target for the SentencePiece-style tokenizer: encode arbitrary bytes with Gemma 3's
// vocabulary (262k tokens, byte fallback, no space prefix), with and without special-token
// parsing, and check what must hold for any input:
//  - every id is a token of the vocabulary; without special parsing no control token appears,
//    unless the merges can spell it (that set is worked out at start-up; for Gemma it is empty);
//  - nothing is lost: byte fallback covers every byte, so detokenize gives the input back with
//    each space and each "▁" (U+2581, SentencePiece's space) read as the same thing, and for
//    valid UTF-8 exactly the input with every "▁" turned into a space;
//  - adding special tokens puts the BOS in front and changes nothing else;
//  - the streaming detokenizer, fed one id at a time, hands out exactly the pieces' bytes; when
//    they are well-formed it hands out only whole UTF-8 sequences and has nothing left to flush.
// A broken invariant aborts (a finding), as do crashes and sanitizer reports.
//
// The vocabulary is models/gemma-3-270m-q4_k_m.gguf of this checkout, or the file named by
// POCKETLM_FUZZ_SPM_VOCAB (it must be a SentencePiece vocabulary without a space prefix).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/detokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"

namespace {

using pocketlm::Tokenizer;

const Tokenizer* g_tok = nullptr;
std::vector<bool> g_spellable_control;  // control tokens the merges can form from plain text

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "spm_tokenizer_fuzz: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

std::string default_vocab_path() {
  std::string here = __FILE__;
  const size_t slash = here.rfind("/fuzz/");
  const std::string root = slash == std::string::npos ? "." : here.substr(0, slash);
  return root + "/models/gemma-3-270m-q4_k_m.gguf";
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(from, pos)) != std::string_view::npos;
       pos = hit + from.size()) {
    out.append(text.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(text.substr(pos));
  return out;
}

bool well_formed(std::string_view s) {
  std::string repaired;
  size_t pos = 0;
  while (pos < s.size()) pocketlm::utf8_append(repaired, pocketlm::utf8_decode(s, pos));
  return repaired == s;
}

// Whether the merges can build `text` as one symbol: it is a single character (as the encoder
// cuts characters), or a token that splits at a character boundary into two buildable symbols.
bool spellable(const Tokenizer& tok, std::string_view text, std::map<std::string, bool>& memo) {
  const size_t first =
      std::min(pocketlm::utf8_sequence_length(static_cast<uint8_t>(text[0])), text.size());
  if (first == text.size()) return true;
  auto [it, fresh] = memo.try_emplace(std::string(text), false);
  if (!fresh) return it->second;
  bool ok = false;
  for (size_t cut = first; cut < text.size() && !ok;
       cut += std::min(pocketlm::utf8_sequence_length(static_cast<uint8_t>(text[cut])),
                       text.size() - cut)) {
    const std::string_view left = text.substr(0, cut);
    const std::string_view right = text.substr(cut);
    const auto symbol = [&](std::string_view s) {
      return tok.find_token(s) >= 0 ||
             pocketlm::utf8_sequence_length(static_cast<uint8_t>(s[0])) >= s.size();
    };
    ok = symbol(left) && symbol(right) && spellable(tok, left, memo) && spellable(tok, right, memo);
  }
  memo[std::string(text)] = ok;
  return ok;
}

void check_streaming(const std::vector<int32_t>& ids, bool special, std::string_view input) {
  std::string pieces;
  for (int32_t id : ids) pieces += g_tok->token_to_piece(id, special);
  pocketlm::StreamingDetokenizer detok(*g_tok, special);
  const bool whole = well_formed(pieces);
  std::string all;
  for (int32_t id : ids) {
    const std::string out = detok.push(id);
    if (whole && !well_formed(out)) fail("streaming released part of a UTF-8 sequence", input);
    if (detok.pending() > 3) fail("streaming held back more than 3 bytes", input);
    all += out;
  }
  const std::string tail = detok.flush();
  if (whole && !tail.empty()) fail("streaming had bytes left at the end", input);
  if (all + tail != pieces) fail("streamed text differs from the pieces", input);
}

void check(std::string_view input, bool parse_special) {
  const std::vector<int32_t> ids = g_tok->encode(input, false, parse_special);
  bool spelled_control = false;
  for (int32_t id : ids) {
    if (id < 0 || id >= g_tok->n_tokens()) fail("id outside the vocabulary", input);
    if (!parse_special && g_tok->is_control(id)) {
      if (!g_spellable_control[id]) fail("control token without parsing", input);
      spelled_control = true;  // its text is hidden below: no round trip to check
    }
  }
  const std::string back = g_tok->detokenize(ids, false, parse_special);
  if (!spelled_control) {
    if (replace_all(back, " ", pocketlm::kSpmSpace) !=
        replace_all(input, " ", pocketlm::kSpmSpace)) {
      fail("detokenize(encode(x)) != x, spaces and markers aside", input);
    }
    if (well_formed(input) && back != replace_all(input, pocketlm::kSpmSpace, " ")) {
      fail("detokenize(encode(x)) != x with markers as spaces", input);
    }
  }
  std::vector<int32_t> with_bos = g_tok->encode(input, true, parse_special);
  if (with_bos.empty() || with_bos[0] != g_tok->bos() ||
      !std::equal(ids.begin(), ids.end(), with_bos.begin() + 1, with_bos.end())) {
    fail("add_special changes more than the BOS", input);
  }
  check_streaming(ids, parse_special, input);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("POCKETLM_FUZZ_SPM_VOCAB");
  const std::string path = env != nullptr ? env : default_vocab_path();
  pocketlm::Result<pocketlm::Vocab> v = pocketlm::load_vocab_gguf(path);
  if (!v.ok()) {
    std::fprintf(stderr, "spm_tokenizer_fuzz: cannot load %s: %s (set POCKETLM_FUZZ_SPM_VOCAB)\n",
                 path.c_str(), v.status().message().c_str());
    std::exit(1);
  }
  pocketlm::Result<Tokenizer> t = Tokenizer::create(std::move(*v));
  if (!t.ok()) {
    std::fprintf(stderr, "spm_tokenizer_fuzz: %s\n", t.status().message().c_str());
    std::exit(1);
  }
  if (t->model() != pocketlm::TokenizerModel::kSpm || t->add_space_prefix() || !t->add_bos() ||
      t->add_eos() || t->bos() < 0) {
    std::fprintf(stderr,
                 "spm_tokenizer_fuzz: %s is not a SentencePiece vocabulary with BOS and without "
                 "a space prefix (the checks assume Gemma's settings)\n",
                 path.c_str());
    std::exit(1);
  }
  g_tok = new Tokenizer(std::move(*t));  // lives for the whole run
  g_spellable_control.assign(g_tok->n_tokens(), false);
  std::map<std::string, bool> memo;
  int n_spellable = 0;
  for (int32_t id = 0; id < g_tok->n_tokens(); ++id) {
    if (!g_tok->is_control(id)) continue;
    g_spellable_control[id] = spellable(*g_tok, g_tok->token_text(id), memo);
    n_spellable += g_spellable_control[id];
  }
  std::fprintf(stderr, "spm_tokenizer_fuzz: %s, %d tokens, %d control tokens spellable\n",
               path.c_str(), g_tok->n_tokens(), n_spellable);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input, false);
  check(input, true);
  return 0;
}
