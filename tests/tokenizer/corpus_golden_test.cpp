// Tokenizers over the whole tokenizer corpus (tests/data/tokenizer/corpus/, ~80 KB of prose in
// many scripts, code, markup, emoji, whitespace runs, numbers, unusual Unicode and special-token
// texts) against the ids llama.cpp produces, recorded by scripts/gen_tokenizer_golden.py in
// tests/data/tokenizer/<model>_corpus_golden.jsonl, for each model:
//   smollm2  SmolLM2-135M-Instruct: byte-level BPE, encoded without BOS
//   gemma3   Gemma 3 270M: SentencePiece with byte fallback, encoded with BOS (add_special, as
//            llama.cpp encodes a Gemma prompt) and detokenized with remove_special
//
// Every document is encoded with and without special-token parsing and must give exactly the
// reference ids; it must also come back through detokenize() as the reference's detokenization,
// and, one token at a time, through the StreamingDetokenizer, whose every output must be valid
// UTF-8 on its own. The reference's detokenization is the text itself except:
//  - SmolLM2, lossy.txt: characters with a byte SmolLM2 has no token for, which the reference
//    drops; there our text must lose exactly what the reference's loses;
//  - Gemma: a "▁" (U+2581) in the text comes back as a space (it is SentencePiece's space).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/json_reader.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

const std::string kSourceDir = POCKETLM_SOURCE_DIR;
const std::string kCorpusDir = kSourceDir + "/tests/data/tokenizer/corpus";
constexpr const char kSeparator[] = "\n\x1e\n";
// Detailed reports stop after this many failing documents per test; the count goes on.
constexpr int kMaxReports = 8;

struct ModelCase {
  const char* name;
  const char* model;   // under models/
  const char* golden;  // under tests/data/tokenizer/
  // The one corpus file whose documents do not survive encode + decode ("" if none).
  const char* lossy_file;
  // Documents whose special-token parsing changes the ids, at least.
  size_t min_with_specials;
};

const ModelCase kModels[] = {
    {"smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2_corpus_golden.jsonl", "lossy.txt", 30},
    // The corpus holds SmolLM2's special-token texts, none of Gemma's (its chat tokens are
    // covered by tests/unit/tokenizer_gemma3_golden_test.cpp).
    {"gemma3", "gemma-3-270m-q4_k_m.gguf", "gemma3_corpus_golden.jsonl", "", 0},
};

// The text SentencePiece gives back: its space marker "▁" becomes a space.
std::string spm_spaces(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct Document {
  std::string file;
  int index = 0;
  std::string text;
  std::vector<int32_t> plain;    // reference ids, parse_special = false
  std::vector<int32_t> special;  // reference ids, parse_special = true
  std::string detok_plain;       // reference detokenize(plain, unparse_special = false)
  std::string detok_special;     // reference detokenize(special, unparse_special = true)
  std::string name() const { return file + " #" + std::to_string(index); }
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<int32_t> ids_of(const testing::Json& array) {
  std::vector<int32_t> ids;
  ids.reserve(array.items.size());
  for (const testing::Json& v : array.items) ids.push_back(static_cast<int32_t>(v.number));
  return ids;
}

// Strict UTF-8: no overlong forms, surrogates, code points past U+10FFFF or cut sequences.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t c = b(i);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((b(i + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Control characters, the separator and bytes of cut sequences are shown as \xNN.
std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string piece_hex_safe(const Tokenizer& tok, int32_t id) {
  std::string_view piece = tok.token_to_piece(id, true);
  std::string s(piece);
  if (valid_utf8(s)) return printable(s);
  std::string out;
  for (unsigned char c : piece) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

std::string ids_window(const Tokenizer& tok, const std::vector<int32_t>& ids, size_t at) {
  const size_t from = at > 4 ? at - 4 : 0;
  const size_t to = std::min(ids.size(), at + 6);
  std::string out = from > 0 ? "... " : "";
  for (size_t i = from; i < to; ++i) {
    if (i == at) out += ">>";
    out += std::to_string(ids[i]) + " '" + piece_hex_safe(tok, ids[i]) + "' ";
  }
  if (to < ids.size()) out += "...";
  return out;
}

// Where the two id lists part, with the text around that place and the tokens on each side.
std::string describe_mismatch(const Tokenizer& tok, const Document& d,
                              const std::vector<int32_t>& ours, const std::vector<int32_t>& ref) {
  size_t at = 0;
  while (at < ours.size() && at < ref.size() && ours[at] == ref[at]) ++at;
  size_t byte = 0;  // text offset where the common prefix ends
  // An added BOS spells nothing of the text.
  const size_t first = !ref.empty() && ref[0] == tok.bos() && tok.add_bos() ? 1 : 0;
  for (size_t i = first; i < at; ++i) byte += tok.token_to_piece(ref[i], true).size();
  byte = std::min(byte, d.text.size());  // a corrupt reference could spell more than the text
  size_t from = byte > 24 ? byte - 24 : 0;
  size_t to = std::min(d.text.size(), byte + 40);
  // Widen to whole UTF-8 sequences so the excerpt prints cleanly.
  while (from > 0 && (static_cast<uint8_t>(d.text[from]) & 0xC0) == 0x80) --from;
  while (to < d.text.size() && (static_cast<uint8_t>(d.text[to]) & 0xC0) == 0x80) ++to;
  std::ostringstream os;
  os << d.name() << ": first difference at token " << at << " (ours " << ours.size()
     << " tokens, reference " << ref.size() << "), text byte " << byte << "\n  text: '"
     << printable(std::string_view(d.text).substr(from, byte - from)) << "[HERE]"
     << printable(std::string_view(d.text).substr(byte, to - byte))
     << "'\n  ours:      " << ids_window(tok, ours, at)
     << "\n  reference: " << ids_window(tok, ref, at);
  return os.str();
}

// One model's tokenizer and the corpus paired with its reference file, loaded once.
struct Corpus {
  std::unique_ptr<Tokenizer> tok;
  std::vector<Document> docs;
  bool add_special = false;     // encode with BOS/EOS as the vocabulary asks
  bool remove_special = false;  // detokenize without them
  std::string error;
};

// Reads the corpus and the reference file and pairs them; returns an error message or "".
std::string read_documents(const std::string& golden_path, Corpus& c) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(kCorpusDir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string content;
    if (!read_file(path.string(), content)) return "cannot read " + path.string();
    size_t pos = 0;
    int index = 0;
    while (pos < content.size()) {
      const size_t sep = content.find(kSeparator, pos);
      if (sep == std::string::npos) return path.string() + ": no separator after the last text";
      Document d;
      d.file = path.filename().string();
      d.index = index++;
      d.text = content.substr(pos, sep - pos);
      c.docs.push_back(std::move(d));
      pos = sep + 3;
    }
  }

  std::string golden;
  if (!read_file(golden_path, golden)) return "cannot read " + golden_path;
  std::istringstream lines(golden);
  std::string line;
  std::getline(lines, line);
  testing::Json header;
  if (!testing::JsonParser(line).parse(&header)) return golden_path + ": bad header line";
  if (static_cast<size_t>(header["documents"].number) != c.docs.size()) {
    return golden_path + " has " + std::to_string(header["documents"].number) +
           " documents, the corpus " + std::to_string(c.docs.size()) +
           ": run scripts/gen_tokenizer_golden.py";
  }
  c.add_special = header["add_special"].boolean;
  c.remove_special = header["remove_special"].boolean;
  for (Document& d : c.docs) {
    testing::Json rec;
    if (!std::getline(lines, line) || !testing::JsonParser(line).parse(&rec)) {
      return golden_path + ": bad record for " + d.name();
    }
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(d.text)));
    if (rec["file"].str != d.file || rec["doc"].number != d.index || rec["fnv1a64"].str != hash) {
      return golden_path + " is stale at " + d.name() + ": run scripts/gen_tokenizer_golden.py";
    }
    d.plain = ids_of(rec["plain"]);
    d.special = rec["special"].is_null() ? d.plain : ids_of(rec["special"]);
    d.detok_plain =
        rec["detok_plain_hex"].is_null() ? d.text : from_hex(rec["detok_plain_hex"].str);
    d.detok_special =
        rec["detok_special_hex"].is_null() ? d.text : from_hex(rec["detok_special_hex"].str);
  }
  return "";
}

const Corpus& corpus_for(const ModelCase& m) {
  static std::map<std::string, Corpus> cache;
  auto [it, fresh] = cache.try_emplace(m.name);
  Corpus& c = it->second;
  if (!fresh) return c;
  Result<Vocab> v = load_vocab_gguf(kSourceDir + "/models/" + m.model);
  if (!v.ok()) {
    c.error = v.status().message();
    return c;
  }
  Result<Tokenizer> t = Tokenizer::create(std::move(*v));
  if (!t.ok()) {
    c.error = t.status().message();
    return c;
  }
  c.tok = std::make_unique<Tokenizer>(std::move(*t));
  c.error = read_documents(kSourceDir + "/tests/data/tokenizer/" + m.golden, c);
  return c;
}

// Feeds the ids one at a time; every piece handed out must be valid UTF-8 by itself.
// (A lossy text can hold stray continuation bytes, which no split can make whole; such a text
// must still stream back byte for byte.)
bool streams_back(const Tokenizer& tok, const std::vector<int32_t>& ids, bool special,
                  const std::string& text, std::string& why) {
  StreamingDetokenizer detok(tok, special);
  const bool text_valid = valid_utf8(text);
  std::string all;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string out = detok.push(ids[i]);
    if (text_valid && !valid_utf8(out)) {
      why = "token " + std::to_string(i) + " (" + std::to_string(ids[i]) +
            ") released invalid UTF-8 '" + printable(out) + "'";
      return false;
    }
    if (detok.pending() > 3) {
      why = "more than 3 bytes held back after token " + std::to_string(i);
      return false;
    }
    all += out;
  }
  const std::string tail = detok.flush();
  if (text_valid && !tail.empty()) {
    why = "flush() released '" + printable(tail) + "' at the end of valid text";
    return false;
  }
  all += tail;
  if (all != text) {
    why = "streamed text differs: '" + printable(all) + "'";
    return false;
  }
  return true;
}

class CorpusGoldenTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override {
    const ModelCase& m = GetParam();
    const std::string model = kSourceDir + "/models/" + m.model;
    if (!std::filesystem::exists(model)) {
      GTEST_SKIP() << model << " is absent (scripts/setup.sh fetches it)";
    }
    c_ = &corpus_for(m);
    ASSERT_TRUE(c_->error.empty()) << c_->error;
    ASSERT_NE(c_->tok, nullptr);
  }

  const Tokenizer& tok() const { return *c_->tok; }

  void expect_reference_ids(bool parse_special) {
    int failures = 0;
    size_t compared = 0;
    for (const Document& d : c_->docs) {
      const std::vector<int32_t>& ref = parse_special ? d.special : d.plain;
      const std::vector<int32_t> ours = tok().encode(d.text, c_->add_special, parse_special);
      compared += ref.size();
      if (ours == ref) continue;
      if (++failures <= kMaxReports) ADD_FAILURE() << describe_mismatch(tok(), d, ours, ref);
    }
    EXPECT_EQ(failures, 0) << "documents whose ids differ from the reference (parse_special="
                           << parse_special << ")";
    std::printf("[ info ] %s: %zu documents, %zu reference tokens compared (parse_special=%d)\n",
                GetParam().name, c_->docs.size(), compared, parse_special ? 1 : 0);
  }

  // The ids detokenize() shows: without the leading BOS when it is removed.
  std::vector<int32_t> shown_ids(std::vector<int32_t> ids) const {
    if (c_->remove_special && tok().add_bos() && !ids.empty() && ids[0] == tok().bos()) {
      ids.erase(ids.begin());
    }
    return ids;
  }

  const Corpus* c_ = nullptr;
};

TEST_P(CorpusGoldenTest, CorpusIsLargeAndVaried) {
  size_t bytes = 0;
  size_t with_specials = 0;
  for (const Document& d : c_->docs) {
    bytes += d.text.size();
    EXPECT_TRUE(valid_utf8(d.text)) << d.name() << " is not valid UTF-8";
    if (d.special != d.plain) ++with_specials;
  }
  EXPECT_GE(bytes, 50u * 1024) << "the corpus must hold at least 50 KB of text";
  EXPECT_GE(c_->docs.size(), 1000u);
  // Parsing special tokens changes the ids of the chat and special-token documents.
  EXPECT_GE(with_specials, GetParam().min_with_specials);
}

TEST_P(CorpusGoldenTest, EncodeMatchesReferenceWithoutSpecialParsing) {
  expect_reference_ids(false);
}

TEST_P(CorpusGoldenTest, EncodeMatchesReferenceWithSpecialParsing) { expect_reference_ids(true); }

TEST_P(CorpusGoldenTest, DetokenizeMatchesTheReference) {
  const std::string lossy_file = GetParam().lossy_file;
  const bool spm = tok().model() == TokenizerModel::kSpm;
  int failures = 0;
  int lossy = 0;
  const bool add = c_->add_special;
  const bool remove = c_->remove_special;
  for (const Document& d : c_->docs) {
    const std::string plain = tok().detokenize(tok().encode(d.text, add, false), remove, false);
    const std::string special = tok().detokenize(tok().encode(d.text, add, true), remove, true);
    // Ours must equal the reference's detokenization, which must be the text itself except in
    // the lossy file, where it must not be (else the file no longer shows the loss), and except
    // for SentencePiece's space marker.
    const bool is_lossy = !lossy_file.empty() && d.file == lossy_file;
    lossy += is_lossy;
    const std::string text = spm ? spm_spaces(d.text) : d.text;
    const bool ok = plain == d.detok_plain && special == d.detok_special &&
                    (d.detok_plain == text) != is_lossy && (d.detok_special == text) != is_lossy;
    if (ok) continue;
    if (++failures <= kMaxReports) {
      ADD_FAILURE() << d.name() << ": text '" << printable(d.text) << "'\n  plain:   '"
                    << printable(plain) << "'\n  special: '" << printable(special)
                    << "'\n  reference plain: '" << printable(d.detok_plain)
                    << "'\n  reference special: '" << printable(d.detok_special) << "'";
    }
  }
  EXPECT_EQ(failures, 0) << "documents whose encode + detokenize differs from the expected text";
  if (!lossy_file.empty()) {
    EXPECT_GE(lossy, 5) << lossy_file;
  }
}

TEST_P(CorpusGoldenTest, StreamingDetokenizerReleasesOnlyWholeCharacters) {
  int failures = 0;
  const bool add = c_->add_special;
  for (const Document& d : c_->docs) {
    std::string why;
    bool ok =
        streams_back(tok(), shown_ids(tok().encode(d.text, add, false)), false, d.detok_plain, why);
    if (ok) {
      ok = streams_back(tok(), shown_ids(tok().encode(d.text, add, true)), true, d.detok_special,
                        why);
    }
    if (ok) continue;
    if (++failures <= kMaxReports) ADD_FAILURE() << d.name() << ": " << why;
  }
  EXPECT_EQ(failures, 0) << "documents the streaming detokenizer mangles";
}

INSTANTIATE_TEST_SUITE_P(Models, CorpusGoldenTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace pocketlm
