// StreamingDetokenizer: turns generated token ids into text as they arrive, never handing out
// part of a UTF-8 sequence (a 4-byte emoji is often split over two or three byte-level BPE
// tokens, or spelled by four SentencePiece byte-fallback tokens "<0xF0>" "<0x9F>" ...).
//
// Usage:
//   StreamingDetokenizer detok(tokenizer);              // special = false: control tokens hidden
//   for (int32_t id : generated) std::fputs(detok.push(id).c_str(), stdout);
//   std::fputs(detok.flush().c_str(), stdout);          // whatever was still held back
//
// The concatenation of everything push() and flush() return is exactly the concatenation of the
// tokens' pieces: bytes are only delayed, never changed. A held-back lead byte whose sequence
// turns out to be broken (the next piece does not continue it) is released unchanged with that
// next piece. No space clean-up is applied (that needs the whole text; see
// Tokenizer::detokenize), nor is a SentencePiece space prefix taken off: generated text does
// not start the sequence.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace pocketlm {

class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool special = false)
      : tokenizer_(&tokenizer), special_(special) {}

  // Text completed by this token (possibly empty).
  std::string push(int32_t id);
  // Releases the held-back tail (an unfinished sequence at the very end) and resets.
  std::string flush();
  // Bytes currently held back (0..3).
  size_t pending() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool special_;
  std::string pending_;
};

}  // namespace pocketlm
