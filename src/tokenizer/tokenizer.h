// Tokenizer: text <-> token ids over a Vocab, matching the reference runtime's ids exactly.
// Two models: byte-level BPE (tokenizer.ggml.model = gpt2: pre-tokenizer by tokenizer.ggml.pre,
// ranked merges) and SentencePiece-style BPE (llama: "▁" for spaces, merges by score, byte
// fallback; Gemma, Llama 2, Phi-3). Special-token matching and BOS/EOS rules are shared.
//
// Usage:
//   Result<Vocab> v = load_vocab_gguf("model.gguf");                 // vocab_gguf.h
//   Result<Tokenizer> tok = Tokenizer::create(std::move(*v));
//   std::vector<int32_t> ids = tok->encode("Hello <|im_end|>", /*add_special=*/true,
//                                          /*parse_special=*/true);
//   std::string text = tok->detokenize(ids, /*remove_special=*/false, /*unparse_special=*/true);
//   std::string_view piece = tok->token_to_piece(ids[0], /*special=*/false);
//   if (tok->is_eog(next_id)) stop();
//
// encode(): with parse_special, the text of control tokens in the input becomes those tokens
// (longest texts first); user-defined tokens are matched always, as the reference does. With
// add_special, BOS/EOS are added when the vocabulary asks for them. A SentencePiece vocabulary
// with add_space_prefix puts a space before the text that starts the input or follows a special
// token, and detokenize() takes it off the first token again.
//
// A Tokenizer is immutable once created; encode/decode are const and safe to call from several
// threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/bpe.h"
#include "tokenizer/ngram_filter.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/vocab.h"

namespace pocketlm {

enum class TokenizerModel {
  kBpe,  // tokenizer.ggml.model = gpt2
  kSpm,  // tokenizer.ggml.model = llama
};

class Tokenizer {
 public:
  Tokenizer() = default;

  static Result<Tokenizer> create(Vocab vocab);

  TokenizerModel model() const { return model_; }
  int32_t n_tokens() const { return static_cast<int32_t>(texts_.size()); }
  // Stored text and attribute bits of a token; 0 <= id < n_tokens().
  const std::string& token_text(int32_t id) const { return texts_[id]; }
  uint32_t token_attr(int32_t id) const { return attrs_[id]; }
  bool is_control(int32_t id) const { return valid(id) && (attrs_[id] & TokenAttr::kControl); }
  // Token whose stored text is exactly `text` (byte alphabet for normal BPE tokens, "▁" for
  // spaces in SentencePiece ones), or kNoToken.
  int32_t find_token(std::string_view text) const {
    return model_ == TokenizerModel::kSpm ? spm_.find_token(text) : bpe_.find_token(text);
  }

  // Resolved special ids: metadata, then the family's defaults, then detection by token text.
  // Where several texts could name one role (SmolLM2 has both <|im_end|> and <|endoftext|> for
  // EOT), the first in our list wins; the reference's pick follows hash-table order. Both are
  // end-of-generation tokens either way.
  const SpecialTokens& special() const { return special_; }
  int32_t bos() const { return special_.bos; }
  int32_t eos() const { return special_.eos; }
  int32_t eot() const { return special_.eot; }
  // The token of "\n": the first token "\n" encodes to (SentencePiece: its byte token), else
  // the pad token.
  int32_t newline() const { return newline_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  // End-of-generation tokens: eos, eot, eom and tokens whose text marks an end (sorted).
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool is_eog(int32_t id) const;

  const PreTokenizerInfo& pre_info() const { return pre_info_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  // Appends to `out`.
  void encode(std::string_view text, bool add_special, bool parse_special,
              std::vector<int32_t>& out) const;

  // The bytes a token stands for. Control and unknown tokens give "" unless `special`; unused
  // tokens give "", and so do byte tokens of BPE (SentencePiece byte tokens give their byte).
  // Ids outside the vocabulary give "". Pieces can end inside a UTF-8 sequence (use
  // StreamingDetokenizer to print as you go).
  std::string_view token_to_piece(int32_t id, bool special) const;

  // The text of a whole sequence. remove_special drops a leading BOS / trailing EOS that the
  // vocabulary would add; unparse_special renders control tokens' text. Families with
  // clean-up enabled also remove the space before , . ! ? and some contractions. With
  // add_space_prefix, one leading space of the first token is dropped (unless a BOS was
  // removed: the reference keeps it then).
  std::string detokenize(const std::vector<int32_t>& ids, bool remove_special,
                         bool unparse_special) const;

 private:
  struct Fragment {
    int32_t token;  // kNoToken: raw text [begin, end) of the input
    size_t begin;
    size_t end;
  };
  struct EncodeScratch;

  bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  void resolve_special_tokens(const Vocab& vocab);
  void partition(std::string_view text, bool parse_special, EncodeScratch& s) const;
  void encode_raw(std::string_view text, EncodeScratch& s, std::vector<int32_t>& out) const;
  // token_to_piece(id, special = true), built once by build_pieces().
  void render_piece(int32_t id, std::string& out) const;
  void render_bpe_piece(int32_t id, std::string& out) const;
  void render_spm_piece(int32_t id, std::string& out) const;
  void build_pieces();

  TokenizerModel model_ = TokenizerModel::kBpe;
  std::vector<std::string> texts_;
  std::vector<uint32_t> attrs_;
  BpeModel bpe_;  // kBpe
  SpmModel spm_;  // kSpm
  PreTokenizerInfo pre_info_;
  PreTokenizer pre_{PreTokenizerType::kDefault};
  SpecialTokens special_;
  int32_t newline_ = kNoToken;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  std::vector<int32_t> eog_ids_;
  // Texts matched in the input, longest first: all of them when special tokens are parsed,
  // else only those neither control nor unknown (user-defined ones).
  struct SpecialText {
    int32_t id;
    NgramFilter::Keys keys;
  };
  std::vector<SpecialText> match_parsed_;
  std::vector<SpecialText> match_always_;
  // token_to_piece(id, special = true) is piece_text_[piece_begin_[id], piece_begin_[id + 1]):
  // one buffer rather than a string per token (262k of them for Gemma).
  std::string piece_text_;
  std::vector<uint32_t> piece_begin_;
  std::vector<std::string> warnings_;
};

}  // namespace pocketlm
