// SmolLM2's tokenizer over the whole tokenizer corpus (tests/data/tokenizer/corpus/, ~80 KB of
// prose in many scripts, code, markup, emoji, whitespace runs, numbers, unusual Unicode and
// special-token texts) against the ids llama.cpp produces, recorded by
// scripts/gen_tokenizer_golden.py in tests/data/tokenizer/smollm2_corpus_golden.jsonl.
//
// Every document is encoded with and without special-token parsing and must give exactly the
// reference ids; it must also come back unchanged through detokenize() and, one token at a
// time, through the StreamingDetokenizer, whose every output must be valid UTF-8 on its own.
// The exception is lossy.txt: characters with a byte SmolLM2 has no token for, which the
// reference drops; there our text must lose exactly what the reference's loses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
const std::string kModel = kSourceDir + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kCorpusDir = kSourceDir + "/tests/data/tokenizer/corpus";
const std::string kGolden = kSourceDir + "/tests/data/tokenizer/smollm2_corpus_golden.jsonl";
constexpr const char kSeparator[] = "\n\x1e\n";
// The one corpus file whose documents do not survive encode + decode (see the header).
constexpr const char kLossyFile[] = "lossy.txt";
// Detailed reports stop after this many failing documents per test; the count goes on.
constexpr int kMaxReports = 8;

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
  for (size_t i = 0; i < at; ++i) byte += tok.token_to_piece(ref[i], true).size();
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

class SmolLm2CorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    Result<Vocab> v = load_vocab_gguf(kModel);
    if (!v.ok()) {
      load_error_ = v.status().message();
      return;
    }
    Result<Tokenizer> t = Tokenizer::create(std::move(*v));
    if (!t.ok()) {
      load_error_ = t.status().message();
      return;
    }
    tok_ = new Tokenizer(std::move(*t));
    load_error_ = read_documents(docs_);
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }

  void SetUp() override {
    if (!std::filesystem::exists(kModel)) {
      GTEST_SKIP() << kModel << " is absent (scripts/setup.sh fetches it)";
    }
    ASSERT_TRUE(load_error_.empty()) << load_error_;
    ASSERT_NE(tok_, nullptr);
  }

  // Reads the corpus and the reference file and pairs them; returns an error message or "".
  static std::string read_documents(std::vector<Document>& docs) {
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
        docs.push_back(std::move(d));
        pos = sep + 3;
      }
    }

    std::string golden;
    if (!read_file(kGolden, golden)) return "cannot read " + kGolden;
    std::istringstream lines(golden);
    std::string line;
    std::getline(lines, line);
    testing::Json header;
    if (!testing::JsonParser(line).parse(&header)) return kGolden + ": bad header line";
    if (static_cast<size_t>(header["documents"].number) != docs.size()) {
      return kGolden + " has " + std::to_string(header["documents"].number) +
             " documents, the corpus " + std::to_string(docs.size()) +
             ": run scripts/gen_tokenizer_golden.py";
    }
    for (Document& d : docs) {
      testing::Json rec;
      if (!std::getline(lines, line) || !testing::JsonParser(line).parse(&rec)) {
        return kGolden + ": bad record for " + d.name();
      }
      char hash[17];
      std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(d.text)));
      if (rec["file"].str != d.file || rec["doc"].number != d.index || rec["fnv1a64"].str != hash) {
        return kGolden + " is stale at " + d.name() + ": run scripts/gen_tokenizer_golden.py";
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

  void expect_reference_ids(bool parse_special) {
    int failures = 0;
    size_t compared = 0;
    for (const Document& d : docs_) {
      const std::vector<int32_t>& ref = parse_special ? d.special : d.plain;
      const std::vector<int32_t> ours = tok_->encode(d.text, false, parse_special);
      compared += ref.size();
      if (ours == ref) continue;
      if (++failures <= kMaxReports) ADD_FAILURE() << describe_mismatch(*tok_, d, ours, ref);
    }
    EXPECT_EQ(failures, 0) << "documents whose ids differ from the reference (parse_special="
                           << parse_special << ")";
    std::printf("[ info ] %zu documents, %zu reference tokens compared (parse_special=%d)\n",
                docs_.size(), compared, parse_special ? 1 : 0);
  }

  // Feeds the ids one at a time; every piece handed out must be valid UTF-8 by itself.
  // (A lossy text can hold stray continuation bytes, which no split can make whole; such a text
  // must still stream back byte for byte.)
  static bool streams_back(const Tokenizer& tok, const std::vector<int32_t>& ids, bool special,
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

  static Tokenizer* tok_;
  static std::vector<Document> docs_;
  static std::string load_error_;
};

Tokenizer* SmolLm2CorpusTest::tok_ = nullptr;
std::vector<Document> SmolLm2CorpusTest::docs_;
std::string SmolLm2CorpusTest::load_error_;

TEST_F(SmolLm2CorpusTest, CorpusIsLargeAndVaried) {
  size_t bytes = 0;
  size_t with_specials = 0;
  for (const Document& d : docs_) {
    bytes += d.text.size();
    EXPECT_TRUE(valid_utf8(d.text)) << d.name() << " is not valid UTF-8";
    if (d.special != d.plain) ++with_specials;
  }
  EXPECT_GE(bytes, 50u * 1024) << "the corpus must hold at least 50 KB of text";
  EXPECT_GE(docs_.size(), 1000u);
  // Parsing special tokens changes the ids of the chat and special-token documents.
  EXPECT_GE(with_specials, 30u);
}

TEST_F(SmolLm2CorpusTest, EncodeMatchesReferenceWithoutSpecialParsing) {
  expect_reference_ids(false);
}

TEST_F(SmolLm2CorpusTest, EncodeMatchesReferenceWithSpecialParsing) { expect_reference_ids(true); }

TEST_F(SmolLm2CorpusTest, DetokenizeRestoresTheText) {
  int failures = 0;
  int lossy = 0;
  for (const Document& d : docs_) {
    const std::string plain = tok_->detokenize(tok_->encode(d.text, false, false), false, false);
    const std::string special = tok_->detokenize(tok_->encode(d.text, false, true), false, true);
    const bool is_lossy = d.file == kLossyFile;
    lossy += is_lossy;
    // Ours must equal the reference's detokenization, which is the text itself except in the
    // lossy file, where it must not be (else the file no longer shows the loss).
    const bool ok = plain == d.detok_plain && special == d.detok_special &&
                    (d.detok_plain == d.text) != is_lossy &&
                    (d.detok_special == d.text) != is_lossy;
    if (ok) continue;
    if (++failures <= kMaxReports) {
      ADD_FAILURE() << d.name() << ": text '" << printable(d.text) << "'\n  plain:   '"
                    << printable(plain) << "'\n  special: '" << printable(special)
                    << "'\n  reference plain: '" << printable(d.detok_plain)
                    << "'\n  reference special: '" << printable(d.detok_special) << "'";
    }
  }
  EXPECT_EQ(failures, 0) << "documents whose encode + detokenize differs from the expected text";
  EXPECT_GE(lossy, 5) << kLossyFile;
}

TEST_F(SmolLm2CorpusTest, StreamingDetokenizerReleasesOnlyWholeCharacters) {
  int failures = 0;
  for (const Document& d : docs_) {
    std::string why;
    bool ok = streams_back(*tok_, tok_->encode(d.text, false, false), false, d.detok_plain, why);
    if (ok) ok = streams_back(*tok_, tok_->encode(d.text, false, true), true, d.detok_special, why);
    if (ok) continue;
    if (++failures <= kMaxReports) ADD_FAILURE() << d.name() << ": " << why;
  }
  EXPECT_EQ(failures, 0) << "documents the streaming detokenizer mangles";
}

}  // namespace
}  // namespace pocketlm
