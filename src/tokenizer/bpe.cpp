#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace pocketlm {
namespace {

// Heap order: the lowest rank on top, and among equal ranks the leftmost pair.
struct CandidateAfter {
  bool operator()(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

Result<BpeModel> BpeModel::build(const std::vector<std::string>& tokens,
                                 const std::vector<std::string>& merges) {
  BpeModel m;
  m.n_tokens_ = static_cast<int32_t>(tokens.size());
  m.next_symbol_id_ = m.n_tokens_;
  // The text index addresses its arena with 32-bit offsets.
  size_t text_bytes = 0;
  for (const std::string& t : tokens) text_bytes += t.size();
  for (const std::string& t : merges) text_bytes += 2 * t.size();
  if (text_bytes >= (size_t(1) << 31)) {
    return invalid_argument(
        strfmt("bpe: %zu bytes of token and merge text is too much", text_bytes));
  }
  m.symbols_.reserve(tokens.size() + merges.size() / 8);
  m.merges_.reserve(merges.size());
  for (int32_t id = 0; id < m.n_tokens_; ++id) {
    if (tokens[id].empty()) return invalid_argument(strfmt("bpe: token %d has no text", id));
    m.symbols_.assign(tokens[id], id);
  }
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    std::string_view line = merges[rank];
    // The separator is the first space after the first byte. A line without one (or with
    // nothing after it) names no pair that can ever occur, so it only uses up its rank.
    size_t space = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
    if (space == std::string_view::npos || space + 1 == line.size()) continue;
    const std::string_view left = line.substr(0, space);
    const std::string_view right = line.substr(space + 1);
    const uint64_t left_state = fnv_extend(kFnvSeed, left);
    const int32_t left_id = m.intern(left, hash_finish(left_state));
    const int32_t right_id = m.intern(right, hash_text(right));
    joined.assign(left);
    joined.append(right);
    const int32_t result_id = m.intern(joined, hash_finish(fnv_extend(left_state, right)));
    m.merges_.try_emplace(pair_key(left_id, right_id),
                          Merge{static_cast<int32_t>(rank), result_id});
  }
  for (int b = 0; b < 256; ++b) {
    m.byte_symbol_[b] = m.find_symbol(byte_to_unicode_utf8(static_cast<uint8_t>(b)));
    const char c = static_cast<char>(b);
    m.single_byte_token_[b] = m.find_token(std::string_view(&c, 1));
  }
  return m;
}

int32_t BpeModel::intern(std::string_view text, uint64_t hash) {
  int32_t id = symbols_.find_hashed(text, hash);
  if (id >= 0) return id;
  id = next_symbol_id_++;
  symbols_.assign_hashed(text, hash, id);
  return id;
}

int32_t BpeModel::find_token(std::string_view text) const {
  int32_t id = find_symbol(text);
  return id < n_tokens_ ? id : -1;
}

void BpeModel::push_candidate(BpeScratch& s, int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return;
  const int32_t left_id = s.symbols[left].id;
  const int32_t right_id = s.symbols[right].id;
  if (left_id < 0 || right_id < 0) return;
  const Merge* m = merges_.find(pair_key(left_id, right_id));
  if (m == nullptr) return;
  s.heap.push_back({m->rank, left, right, left_id, right_id, m->result_id});
  std::push_heap(s.heap.begin(), s.heap.end(), CandidateAfter());
}

void BpeModel::encode_word(std::string_view word, bool ignore_merges, BpeScratch& s,
                           std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges) {
    s.mapped.clear();
    for (char c : word) s.mapped.append(byte_to_unicode_utf8(static_cast<uint8_t>(c)));
    int32_t id = find_token(s.mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const int32_t n = static_cast<int32_t>(word.size());
  s.symbols.resize(word.size());
  for (int32_t i = 0; i < n; ++i) {
    s.symbols[i] = {byte_symbol_[static_cast<uint8_t>(word[i])], uint32_t(i), 1, i - 1,
                    i + 1 < n ? i + 1 : -1};
  }
  s.heap.clear();
  for (int32_t i = 1; i < n; ++i) push_candidate(s, i - 1, i);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), CandidateAfter());
    const BpeScratch::Candidate c = s.heap.back();
    s.heap.pop_back();
    BpeScratch::Symbol& left = s.symbols[c.left];
    BpeScratch::Symbol& right = s.symbols[c.right];
    // Symbols only grow, and a grown symbol has a new id, so unchanged ids on two live symbols
    // mean the pair is still exactly what was queued (and still adjacent).
    if (left.size == 0 || right.size == 0 || left.id != c.left_id || right.id != c.right_id) {
      continue;
    }
    left.id = c.result_id;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) s.symbols[right.next].prev = c.left;
    push_candidate(s, left.prev, c.left);
    push_candidate(s, c.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = s.symbols[i].next) {
    const BpeScratch::Symbol& sym = s.symbols[i];
    if (sym.id >= 0 && sym.id < n_tokens_) {
      out.push_back(sym.id);
      continue;
    }
    // Not a token: emit whatever single-byte tokens its alphabet text is made of.
    for (uint32_t k = sym.begin; k < sym.begin + sym.size; ++k) {
      for (char c : byte_to_unicode_utf8(static_cast<uint8_t>(word[k]))) {
        int32_t t = single_byte_token_[static_cast<uint8_t>(c)];
        if (t >= 0) out.push_back(t);
      }
    }
  }
}

}  // namespace pocketlm
