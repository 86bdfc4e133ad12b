#include "tokenizer/spm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "tokenizer/unicode.h"

namespace pocketlm {
namespace {

// Heap order: the highest score on top, and among equal scores the leftmost pair.
struct CandidateBelow {
  bool operator()(const SpmScratch::Candidate& a, const SpmScratch::Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

uint8_t spm_byte_token_value(std::string_view text) {
  // strtol semantics on text[3..5) (leading blanks, a sign or a "0x" are accepted), so that a
  // malformed byte token reads as the reference reads it.
  char digits[3] = {0, 0, 0};
  for (size_t i = 0; i < 2 && 3 + i < text.size(); ++i) digits[i] = text[3 + i];
  return static_cast<uint8_t>(std::strtol(digits, nullptr, 16));
}

Result<SpmModel> SpmModel::build(const std::vector<std::string>& tokens,
                                 const std::vector<float>& scores) {
  if (!scores.empty() && scores.size() != tokens.size()) {
    return invalid_argument(strfmt("spm: %zu scores for %zu tokens", scores.size(), tokens.size()));
  }
  size_t text_bytes = 0;
  for (const std::string& t : tokens) text_bytes += t.size();
  // The text index addresses its arena with 32-bit offsets; the escaped input is addressed with
  // 32-bit offsets too (encode() checks its own size).
  if (text_bytes >= (size_t(1) << 31)) {
    return invalid_argument(strfmt("spm: %zu bytes of token text is too much", text_bytes));
  }
  SpmModel m;
  const int32_t n = static_cast<int32_t>(tokens.size());
  m.scores_.assign(tokens.size(), 0.0f);
  m.index_.reserve(tokens.size());
  // Hashes first, then inserts that prefetch the slot a few tokens ahead: the table (8 MiB for
  // Gemma's 262k tokens) is far larger than the cache, and this halves the build time.
  std::vector<uint64_t> hashes(tokens.size());
  for (int32_t id = 0; id < n; ++id) {
    if (tokens[id].empty()) return invalid_argument(strfmt("spm: token %d has no text", id));
    hashes[id] = hash_text(tokens[id]);
  }
  constexpr int32_t kAhead = 16;
  for (int32_t id = 0; id < n; ++id) {
    if (id + kAhead < n) m.index_.prefetch(hashes[id + kAhead]);
    m.index_.assign_hashed(tokens[id], hashes[id], id);
    if (!scores.empty()) {
      const float s = scores[id];
      m.scores_[id] = std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
    }
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    int32_t id = m.find_token(std::string_view(name, 6));
    if (id < 0) {
      const char c = static_cast<char>(b);
      id = m.find_token(std::string_view(&c, 1));
    }
    m.byte_token_[b] = id;
  }
  return m;
}

void SpmModel::push_candidate(SpmScratch& s, int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return;
  const SpmScratch::Symbol& l = s.symbols[left];
  const SpmScratch::Symbol& r = s.symbols[right];
  // Neighbours are adjacent in the text, so the pair's text is one slice of it.
  const uint32_t size = l.size + r.size;
  const int32_t id = find_token(std::string_view(s.text).substr(l.begin, size));
  if (id < 0) return;
  s.heap.push_back({scores_[id], left, right, size, id});
  std::push_heap(s.heap.begin(), s.heap.end(), CandidateBelow());
}

void SpmModel::encode(std::string_view text, bool space_prefix, int32_t unk, SpmScratch& s,
                      std::vector<int32_t>& out) const {
  s.text.clear();
  if (space_prefix) s.text.append(kSpmSpace);
  for (char c : text) {
    if (c == ' ') {
      s.text.append(kSpmSpace);
    } else {
      s.text.push_back(c);
    }
  }
  if (s.text.empty()) return;
  // Symbol offsets and sizes are 32-bit; a single call on more than 2 GiB of text is refused
  // by emitting nothing rather than overflowing (callers split long inputs long before this).
  if (s.text.size() >= (size_t(1) << 31)) return;

  s.symbols.clear();
  const size_t n_bytes = s.text.size();
  for (size_t pos = 0; pos < n_bytes;) {
    const size_t len =
        std::min(utf8_sequence_length(static_cast<uint8_t>(s.text[pos])), n_bytes - pos);
    const int32_t index = static_cast<int32_t>(s.symbols.size());
    s.symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(len), index - 1,
                         pos + len == n_bytes ? -1 : index + 1, -1});
    pos += len;
  }
  const int32_t n = static_cast<int32_t>(s.symbols.size());
  s.heap.clear();
  for (int32_t i = 1; i < n; ++i) push_candidate(s, i - 1, i);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), CandidateBelow());
    const SpmScratch::Candidate c = s.heap.back();
    s.heap.pop_back();
    SpmScratch::Symbol& left = s.symbols[c.left];
    SpmScratch::Symbol& right = s.symbols[c.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != c.size) continue;
    left.size += right.size;
    left.id = c.id;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) s.symbols[right.next].prev = c.left;
    push_candidate(s, left.prev, c.left);
    push_candidate(s, c.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = s.symbols[i].next) {
    const SpmScratch::Symbol& sym = s.symbols[i];
    const std::string_view piece = std::string_view(s.text).substr(sym.begin, sym.size);
    const int32_t id = sym.id >= 0 ? sym.id : find_token(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t b = byte_token_[static_cast<uint8_t>(c)];
      if (b >= 0) {
        out.push_back(b);
      } else if (unk >= 0) {
        out.push_back(unk);
      }
    }
  }
}

}  // namespace pocketlm
