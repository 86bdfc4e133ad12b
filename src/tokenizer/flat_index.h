// Open-addressing hash tables for the tokenizer's two lookups: text -> id and (id, id) -> merge.
//
// Usage:
//   TextIndex texts;
//   texts.reserve(n);
//   texts.assign("Ġthe", 262);                   // a later assign of the same text wins
//   int32_t id = texts.find("Ġthe");             // 262, or -1
//   PairIndex<MergeInfo> merges;
//   merges.try_emplace(pair_key(a, b), {rank, result});
//   const MergeInfo* m = merges.find(pair_key(a, b));
//
// Loading a vocabulary is ~150k string lookups; std::unordered_map spends most of that time
// chasing node and string pointers. Here a lookup touches one 16-byte slot and the text's bytes
// in one contiguous arena, which keeps loading a 50k-token, 50k-merge vocabulary to a few
// milliseconds. Both tables only grow (the tokenizer never erases).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace pocketlm {

// FNV-1a, resumable: hash_text(a + b) == hash_finish(fnv_extend(fnv_extend(kFnvSeed, a), b)).
inline constexpr uint64_t kFnvSeed = 0xcbf29ce484222325ull;
inline uint64_t fnv_extend(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}
// A 64-bit finalizer, so the low bits (the slot index) depend on every byte.
inline uint64_t hash_finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}
inline uint64_t hash_text(std::string_view s) { return hash_finish(fnv_extend(kFnvSeed, s)); }

class TextIndex {
 public:
  size_t size() const { return count_; }

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    if (cap > slots_.size()) rehash(cap);
  }

  // Maps `text` to `id`, replacing the id of an equal text already present.
  void assign(std::string_view text, int32_t id) { assign_hashed(text, hash_text(text), id); }

  int32_t find(std::string_view text) const { return find_hashed(text, hash_text(text)); }

  // The same with the hash already known (h == hash_text(text)), e.g. computed with
  // fnv_extend() while hashing a longer text that starts with this one.
  int32_t find_hashed(std::string_view text, uint64_t h) const {
    if (slots_.empty()) return -1;
    return slots_[probe(text, h)].id;
  }
  // Hints that the slot for hash `h` is wanted soon. Bulk loads hash a few entries ahead and
  // prefetch their slots, so that the cache misses of a table far larger than the cache
  // overlap instead of queueing (the table must not grow in between: reserve() first).
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }

  void assign_hashed(std::string_view text, uint64_t h, int32_t id) {
    grow_if_needed();
    size_t i = probe(text, h);
    if (slots_[i].id >= 0) {
      slots_[i].id = id;
      return;
    }
    slots_[i] = {static_cast<uint32_t>(h >> 32), id, static_cast<uint32_t>(arena_.size()),
                 static_cast<uint32_t>(text.size())};
    arena_.append(text);
    ++count_;
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // high hash bits, compared before the text
    int32_t id = -1;   // -1: empty
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  // Slot holding `text`, or the empty slot where it would go.
  size_t probe(std::string_view text, uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id < 0) return i;
      if (s.tag == tag && s.length == text.size() &&
          std::memcmp(arena_.data() + s.offset, text.data(), text.size()) == 0) {
        return i;
      }
    }
  }

  void grow_if_needed() {
    if (slots_.empty() || 2 * (count_ + 1) > slots_.size()) {
      rehash(slots_.empty() ? 16 : 2 * slots_.size());
    }
  }

  void rehash(size_t cap) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(cap, Slot());
    const size_t mask = cap - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      const uint64_t h = hash_text(std::string_view(arena_.data() + s.offset, s.length));
      size_t i = h & mask;
      while (slots_[i].id >= 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

inline uint64_t pair_key(int32_t left, int32_t right) {
  return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

// uint64 key -> Value. The all-ones key is reserved (pair_key of two -1 ids never gets stored).
template <typename Value>
class PairIndex {
 public:
  size_t size() const { return count_; }

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    if (cap > slots_.size()) rehash(cap);
  }

  // Stores the value unless the key is present (the first value stays).
  void try_emplace(uint64_t key, const Value& value) {
    if (slots_.empty() || 2 * (count_ + 1) > slots_.size()) {
      rehash(slots_.empty() ? 16 : 2 * slots_.size());
    }
    size_t i = probe(key);
    if (slots_[i].key == key) return;
    slots_[i] = {key, value};
    ++count_;
  }

  const Value* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[probe(key)];
    return s.key == key ? &s.value : nullptr;
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };

  static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
  }

  size_t probe(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == key || slots_[i].key == kEmpty) return i;
    }
  }

  void rehash(size_t cap) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(cap, Slot());
    count_ = 0;
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      slots_[probe(s.key)] = s;
      ++count_;
    }
  }

  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace pocketlm
