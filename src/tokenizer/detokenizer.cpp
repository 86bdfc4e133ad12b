// Ids -> text: per-token pieces, whole-sequence detokenization with the clean-up rules, and the
// streaming detokenizer.
#include "tokenizer/detokenizer.h"

#include <cstdint>

#include "tokenizer/unicode.h"

namespace pocketlm {

void Tokenizer::build_pieces() {
  const int32_t n = n_tokens();
  piece_begin_.assign(static_cast<size_t>(n) + 1, 0);
  size_t total = 0;
  for (const std::string& t : texts_) total += t.size();
  piece_text_.clear();
  piece_text_.reserve(total);
  for (int32_t id = 0; id < n; ++id) {
    piece_begin_[id] = static_cast<uint32_t>(piece_text_.size());
    render_piece(id, piece_text_);
    // Offsets are 32-bit: a vocabulary whose pieces pass 4 GiB (only possible through the
    // visible rendering of broken byte-alphabet text) keeps the pieces that fit.
    if (piece_text_.size() > UINT32_MAX) piece_text_.resize(piece_begin_[id]);
  }
  piece_begin_[n] = static_cast<uint32_t>(piece_text_.size());
}

void Tokenizer::render_piece(int32_t id, std::string& out) const {
  if (model_ == TokenizerModel::kSpm) {
    render_spm_piece(id, out);
  } else {
    render_bpe_piece(id, out);
  }
}

// A normal token's text is in the byte alphabet: each code point stands for one byte. A code
// point that stands for none (a broken vocabulary) is rendered visibly, the way the reference
// renders it, rather than dropped.
void Tokenizer::render_bpe_piece(int32_t id, std::string& out) const {
  const uint32_t attr = attrs_[id];
  const std::string& text = texts_[id];
  if (attr & (TokenAttr::kUnknown | TokenAttr::kControl | TokenAttr::kUserDefined)) {
    out += text;
    return;
  }
  if (!(attr & TokenAttr::kNormal)) return;
  size_t pos = 0;
  while (pos < text.size()) {
    const uint32_t cp = utf8_decode(text, pos);
    const int byte = unicode_to_byte(cp);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      continue;
    }
    std::string utf8;
    utf8_append(utf8, cp);
    out += "[UNK_BYTE_0x";
    for (char c : utf8) out += strfmt("%02x", static_cast<unsigned>(static_cast<uint8_t>(c)));
    out += text;
    out += "]";
  }
}

// SentencePiece: special and user-defined texts are literal, a normal token's "▁" is a space,
// a byte token is its byte; unused and untyped tokens render as nothing.
void Tokenizer::render_spm_piece(int32_t id, std::string& out) const {
  const uint32_t attr = attrs_[id];
  const std::string_view text = texts_[id];
  if (attr & (TokenAttr::kUnknown | TokenAttr::kControl | TokenAttr::kUserDefined)) {
    out += text;
  } else if (attr & TokenAttr::kNormal) {
    size_t pos = 0;
    for (size_t hit; (hit = text.find(kSpmSpace, pos)) != std::string_view::npos;) {
      out.append(text.substr(pos, hit - pos));
      out.push_back(' ');
      pos = hit + kSpmSpace.size();
    }
    out.append(text.substr(pos));
  } else if (attr & TokenAttr::kByte) {
    out.push_back(static_cast<char>(spm_byte_token_value(text)));
  }
}

std::string_view Tokenizer::token_to_piece(int32_t id, bool special) const {
  if (!valid(id)) return std::string_view();
  if (!special && (attrs_[id] & (TokenAttr::kUnknown | TokenAttr::kControl))) {
    return std::string_view();
  }
  return std::string_view(piece_text_)
      .substr(piece_begin_[id], piece_begin_[id + 1] - piece_begin_[id]);
}

std::string Tokenizer::detokenize(const std::vector<int32_t>& ids, bool remove_special,
                                  bool unparse_special) const {
  size_t first = 0;
  size_t last = ids.size();
  // The space add_space_prefix put in front comes off the first piece, unless a BOS is removed
  // (the reference's rule).
  bool remove_space = add_space_prefix_;
  if (remove_special && add_bos_ && last > first && ids[first] == special_.bos) {
    ++first;
    remove_space = false;
  }
  if (remove_special && add_eos_ && last > first && ids[last - 1] == special_.eos) --last;
  std::string text;
  for (size_t i = first; i < last; ++i) {
    std::string_view piece = token_to_piece(ids[i], unparse_special);
    if (remove_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    remove_space = false;
    text += piece;
  }
  if (!pre_info_.clean_spaces || text.empty()) return text;

  // The clean-up of Hugging Face's clean_up_tokenization, in three passes. Each pass compacts
  // the buffer in place while testing the characters' original neighbours, as the reference
  // does (the second pass blanks the space it swallows, so that space cannot count as the
  // neighbour of the next character).
  std::string& s = text;
  size_t total = s.size();

  // " ?" " !" " ." " ," lose their space.
  size_t out = 1;
  for (size_t i = 1; i < total; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --out;
    s[out++] = x;
  }
  total = out;

  // " ' " becomes "'".
  out = 1;
  for (size_t i = 1; i < total; ++i) {
    const char x = s[i];
    if (x == '\'' && i + 1 < total && s[i - 1] == ' ' && s[i + 1] == ' ') {
      --out;
      s[++i] = '\0';
    }
    s[out++] = x;
  }
  total = out;

  // " 's" " 'm" " 're" " 've" lose their space (" 't", " 'd", " 'll" keep it).
  out = 1;
  for (size_t i = 1; i < total; ++i) {
    const char x = s[i];
    if (s[i - 1] == ' ' && x == '\'' && i + 1 < total) {
      const char x1 = s[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --out;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < total) {
        const char x2 = s[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --out;
      }
    }
    s[out++] = x;
  }
  s.resize(out);
  return text;
}

std::string StreamingDetokenizer::push(int32_t id) {
  pending_ += tokenizer_->token_to_piece(id, special_);
  const size_t ready = utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, ready);
  pending_.erase(0, ready);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace pocketlm
