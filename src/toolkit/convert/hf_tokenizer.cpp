#include "toolkit/convert/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "format/json.h"
#include "tokenizer/vocab.h"

namespace pocketlm::convert {
namespace {

namespace fs = std::filesystem;

// The split rules of the pre-tokenizers pocketlm recognises, exactly as tokenizer.json spells
// them.
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// The special-token kinds, in the order the reference converter considers them, and their keys.
struct SpecialKind {
  const char* name;
  const char* id_key;   // nullptr: no GGUF key (cls)
  const char* add_key;  // nullptr: no add_*_token key
};
constexpr SpecialKind kSpecialKinds[] = {
    {"bos", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token"},
    {"eos", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_eos_token"},
    {"unk", "tokenizer.ggml.unknown_token_id", nullptr},
    {"sep", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.add_sep_token"},
    {"pad", "tokenizer.ggml.padding_token_id", nullptr},
    {"cls", nullptr, nullptr},
    {"mask", "tokenizer.ggml.mask_token_id", nullptr},
    {"eot", "tokenizer.ggml.eot_token_id", nullptr},
};

const SpecialKind* special_kind(std::string_view name) {
  for (const SpecialKind& k : kSpecialKinds) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

Status read_text(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return io_error("cannot open '" + p.string() + "'");
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return io_error("cannot read '" + p.string() + "'");
  return Status();
}

Result<Json> read_json(const fs::path& p) {
  std::string text;
  PLM_RETURN_IF_ERROR(read_text(p, text));
  return Json::parse(text, p.string());
}

bool looks_special(const std::string& t) {
  auto starts = [&](std::string_view s) { return t.size() >= s.size() && t.rfind(s, 0) == 0; };
  auto ends = [&](std::string_view s) {
    return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0;
  };
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.size() >= 4 && starts("<|") && ends("|>")) return true;
  if (starts("<\xef\xbd\x9c") && ends("\xef\xbd\x9c>")) return true;  // fullwidth bars
  return starts("<unused") && ends(">");
}

const std::string* str_field(const Json& obj, const char* key) {
  const Json* v = obj.find(key);
  return v == nullptr ? nullptr : v->as_string();
}

bool bool_field(const Json& obj, const char* key, bool fallback) {
  const Json* v = obj.find(key);
  return v != nullptr && v->is_bool() ? *v->as_bool() : fallback;
}

// tokenizer_config.json names a special token as a string or as {"content": ...}.
std::optional<std::string> token_content(const Json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return *v->as_string();
  if (v->is_object()) {
    if (const std::string* c = str_field(*v, "content")) return *c;
  }
  return std::nullopt;
}

// The pre-tokenizer's name from its definition; "" when it is none pocketlm recognises (with
// `found` describing it for the message).
std::string detect_pre(const Json& tok, std::string& found) {
  const Json* pre = tok.find("pre_tokenizer");
  if (pre == nullptr || pre->is_null()) {
    found = "no pre-tokenizer";
    return "";
  }
  std::vector<const Json*> steps;
  if (const std::string* type = str_field(*pre, "type"); type != nullptr && *type == "Sequence") {
    const Json* list = pre->find("pretokenizers");
    if (list != nullptr && list->is_array()) {
      for (const Json& s : list->items()) steps.push_back(&s);
    }
  } else {
    steps.push_back(pre);
  }
  found.clear();
  for (const Json* s : steps) {
    const std::string* t = str_field(*s, "type");
    if (!found.empty()) found += " + ";
    found += t != nullptr ? *t : std::string("?");
  }
  auto is = [&](const Json* s, const char* type) {
    const std::string* t = str_field(*s, "type");
    return t != nullptr && *t == type;
  };
  auto byte_level = [&](const Json* s, bool use_regex) {
    return is(s, "ByteLevel") && !bool_field(*s, "add_prefix_space", false) &&
           bool_field(*s, "use_regex", true) == use_regex;
  };
  auto split_regex = [&](const Json* s) -> std::string {
    if (!is(s, "Split")) return "";
    const Json* pattern = s->find("pattern");
    const std::string* behavior = str_field(*s, "behavior");
    if (pattern == nullptr || behavior == nullptr || *behavior != "Isolated" ||
        bool_field(*s, "invert", false)) {
      return "";
    }
    const std::string* re = str_field(*pattern, "Regex");
    return re != nullptr ? *re : std::string();
  };
  if (steps.size() == 1 && byte_level(steps[0], true)) return "gpt-2";
  if (steps.size() == 2 && byte_level(steps[1], false)) {
    const std::string re = split_regex(steps[0]);
    if (re == kLlama3Regex) return "llama-bpe";
    if (re == kQwen2Regex) return "qwen2";
  }
  if (steps.size() == 2 && is(steps[0], "Digits") &&
      bool_field(*steps[0], "individual_digits", false) && byte_level(steps[1], true)) {
    return "smollm";
  }
  return "";
}

Status read_merges(const Json& model, const std::string& where, std::vector<std::string>& out) {
  const Json* merges = model.find("merges");
  if (merges == nullptr || !merges->is_array()) {
    return malformed(where + ": the BPE model has no \"merges\" list");
  }
  out.reserve(merges->size());
  for (const Json& m : merges->items()) {
    if (const std::string* s = m.as_string()) {
      out.push_back(*s);
      continue;
    }
    if (!m.is_array() || m.size() != 2 || !m.items()[0].is_string() || !m.items()[1].is_string()) {
      return malformed(where + ": a merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
    // The pair form allows spaces inside a part; GGUF merges separate parts by a space, so a
    // space inside a part is written as U+0120, as the reference converter does.
    std::string line;
    for (int k = 0; k < 2; ++k) {
      if (k == 1) line += ' ';
      for (char c : *m.items()[k].as_string()) {
        if (c == ' ') {
          line += "\xc4\xa0";
        } else {
          line += c;
        }
      }
    }
    out.push_back(std::move(line));
  }
  return Status();
}

// add_bos / add_eos (and the eos that an end-of-template token implies) from a
// TemplateProcessing post-processor, read the way the reference converter reads it.
void read_template_processing(const Json& tok, bool have_tc, std::string& bos, std::string& eos,
                              std::string& eot, std::vector<std::pair<std::string, bool>>& add) {
  const Json* post = tok.find("post_processor");
  if (post == nullptr || !post->is_object()) return;
  std::vector<const Json*> procs;
  if (const Json* list = post->find("processors"); list != nullptr && list->is_array()) {
    for (const Json& p : list->items()) procs.push_back(&p);
  } else {
    procs.push_back(post);
  }
  auto set_add = [&](const char* kind, bool v) {
    for (auto& [k, val] : add) {
      if (k == kind) {
        val = v;
        return;
      }
    }
    add.emplace_back(kind, v);
  };
  for (const Json* p : procs) {
    const std::string* type = str_field(*p, "type");
    if (type == nullptr || *type != "TemplateProcessing") continue;
    const Json* single = p->find("single");
    if (single == nullptr || !single->is_array() || single->size() < 2) continue;
    auto special_id = [](const Json& item) -> const std::string* {
      const Json* st = item.find("SpecialToken");
      return st == nullptr ? nullptr : str_field(*st, "id");
    };
    if (const std::string* first = special_id(single->items().front())) {
      if (!have_tc) bos = *first;
      set_add("bos", *first == bos);
    }
    if (const std::string* last = special_id(single->items().back())) {
      if (!have_tc) {
        eos = *last;
      } else if (*last != eos) {
        eot = eos;  // the configured eos ends a turn; the template's token ends a sequence
        eos = *last;
      }
      set_add("eos", *last == eos);
    }
  }
}

}  // namespace

Result<HfVocab> read_hf_tokenizer(const std::string& dir, const HfConfig& config,
                                  const std::string& pre_override) {
  const fs::path root(dir);
  const fs::path tok_path = root / "tokenizer.json";
  std::error_code ec;
  if (!fs::is_regular_file(tok_path, ec)) {
    return not_found("no tokenizer.json in '" + dir +
                     "' (only Hugging Face fast tokenizers can "
                     "be converted)");
  }
  Result<Json> tok = read_json(tok_path);
  if (!tok.ok()) return tok.status();
  const std::string where = tok_path.string();
  if (!tok->is_object()) return malformed(where + ": not a JSON object");
  const Json* model = tok->find("model");
  if (model == nullptr || !model->is_object()) return malformed(where + ": no \"model\" object");
  const std::string* model_type = str_field(*model, "type");
  if (model_type == nullptr || *model_type != "BPE") {
    return unsupported(where + ": tokenizer model '" + (model_type ? *model_type : "?") +
                       "' is not supported (only byte-level BPE)");
  }
  if (bool_field(*model, "byte_fallback", false)) {
    return unsupported(where +
                       ": SentencePiece-style BPE (byte_fallback) is not supported, only "
                       "byte-level BPE");
  }
  if (const Json* norm = tok->find("normalizer"); norm != nullptr && !norm->is_null()) {
    const std::string* t = str_field(*norm, "type");
    if (t == nullptr || *t != "NFC") {
      return unsupported(where + ": normalizer '" + (t ? *t : "?") +
                         "' is not supported (only none or NFC)");
    }
  }

  HfVocab v;
  std::string found;
  const std::string detected = detect_pre(*tok, found);
  if (!pre_override.empty()) {
    v.pre = pre_override;
    if (!detected.empty() && detected != pre_override) {
      v.warnings.push_back("pre-tokenizer '" + pre_override + "' given, but tokenizer.json " +
                           "describes '" + detected + "'");
    }
  } else if (detected.empty()) {
    return unsupported(where + ": pre-tokenizer (" + found +
                       ") is not one pocketlm recognises; name its split rule with --pre");
  } else {
    v.pre = detected;
  }
  const bool ignore_merges = bool_field(*model, "ignore_merges", false);
  if (ignore_merges != (v.pre == "llama-bpe")) {
    v.warnings.push_back(strfmt(
        "tokenizer.json has ignore_merges=%s, but pre-tokenizer '%s' is "
        "run with ignore_merges=%s",
        ignore_merges ? "true" : "false", v.pre.c_str(), v.pre == "llama-bpe" ? "true" : "false"));
  }

  // Ids: the model's vocabulary, then the added tokens (which win where both name an id).
  const Json* vocab = model->find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return malformed(where + ": the BPE model has no \"vocab\" object");
  }
  const int64_t n_vocab = config.vocab_size;
  std::vector<std::optional<std::string>> by_id(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab),
                             static_cast<int32_t>(TokenType::kNormal));
  auto check_id = [&](int64_t id, const std::string& text) -> Status {
    if (id < 0 || id >= n_vocab) {
      return malformed(strfmt("%s: token id %lld is outside config.json's vocab_size %lld",
                              where.c_str(), static_cast<long long>(id),
                              static_cast<long long>(n_vocab)));
    }
    (void)text;
    return Status();
  };
  for (const auto& [text, id_json] : vocab->members()) {
    std::optional<int64_t> id = id_json.as_int();
    if (!id) return malformed(where + ": a vocabulary id is not an integer");
    PLM_RETURN_IF_ERROR(check_id(*id, text));
    if (by_id[static_cast<size_t>(*id)]) {
      return malformed(
          strfmt("%s: id %lld is given to two tokens", where.c_str(), static_cast<long long>(*id)));
    }
    by_id[static_cast<size_t>(*id)] = text;
  }
  std::unordered_map<std::string, uint32_t> added_ids;  // content -> id (first wins)
  if (const Json* added = tok->find("added_tokens"); added != nullptr && !added->is_null()) {
    if (!added->is_array()) return malformed(where + ": \"added_tokens\" is not a list");
    for (const Json& a : added->items()) {
      const Json* id_json = a.find("id");
      const std::string* content = str_field(a, "content");
      if (id_json == nullptr || !id_json->as_int() || content == nullptr) {
        return malformed(where + ": an added token lacks \"id\" or \"content\"");
      }
      const int64_t id = *id_json->as_int();
      PLM_RETURN_IF_ERROR(check_id(id, *content));
      std::string text = *content;
      int32_t type;
      if (bool_field(a, "special", false) || looks_special(text)) {
        type = static_cast<int32_t>(TokenType::kControl);
      } else {
        // User-defined tokens are matched as they are written, so SentencePiece's space mark
        // becomes a space.
        size_t pos;
        while ((pos = text.find("\xe2\x96\x81")) != std::string::npos) text.replace(pos, 3, " ");
        type = static_cast<int32_t>(TokenType::kUserDefined);
      }
      by_id[static_cast<size_t>(id)] = std::move(text);
      types[static_cast<size_t>(id)] = type;
      added_ids.emplace(*content, static_cast<uint32_t>(id));
    }
  }
  v.tokens.reserve(by_id.size());
  for (size_t i = 0; i < by_id.size(); ++i) {
    if (by_id[i]) {
      v.tokens.push_back(std::move(*by_id[i]));
    } else {
      v.tokens.push_back(strfmt("[PAD%zu]", i));
      types[i] = static_cast<int32_t>(TokenType::kUnused);
    }
  }
  v.token_types = std::move(types);
  PLM_RETURN_IF_ERROR(read_merges(*model, where, v.merges));

  // Special tokens: tokenizer_config.json, the post-processor template, then config.json.
  Json tc;
  bool have_tc = false;
  const fs::path tc_path = root / "tokenizer_config.json";
  if (fs::is_regular_file(tc_path, ec)) {
    Result<Json> r = read_json(tc_path);
    if (!r.ok()) return r.status();
    if (!r->is_object()) return malformed(tc_path.string() + ": not a JSON object");
    tc = std::move(*r);
    have_tc = true;
  }
  std::unordered_map<std::string, std::string> content;  // kind -> token text
  if (have_tc) {
    for (const SpecialKind& k : kSpecialKinds) {
      if (auto c = token_content(tc.find(std::string(k.name) + "_token"))) content[k.name] = *c;
    }
    // Without bos/eos, BERT-style cls/sep stand in for them.
    if (!content.count("bos") && content.count("cls")) content["bos"] = content["cls"];
    if (!content.count("eos") && content.count("sep")) content["eos"] = content["sep"];
  }
  std::string bos = content.count("bos") ? content["bos"] : "";
  std::string eos = content.count("eos") ? content["eos"] : "";
  std::string eot;
  read_template_processing(*tok, have_tc, bos, eos, eot, v.add_special);
  if (!bos.empty()) content["bos"] = bos;
  if (!eos.empty()) content["eos"] = eos;
  if (!eot.empty()) content["eot"] = eot;

  std::unordered_map<std::string, uint32_t> ids;
  if (have_tc) {
    for (const SpecialKind& k : kSpecialKinds) {
      const Json* add = tc.find(std::string("add_") + k.name + "_token");
      if (add != nullptr && add->is_bool() && k.add_key != nullptr) {
        bool found_flag = false;
        for (auto& [kind, val] : v.add_special) {
          if (kind == k.name) {
            val = *add->as_bool();
            found_flag = true;
          }
        }
        if (!found_flag) v.add_special.emplace_back(k.name, *add->as_bool());
      }
    }
  }
  // Content is looked up among the added tokens only, as the reference converter does.
  for (const SpecialKind& k : kSpecialKinds) {
    auto c = content.find(k.name);
    if (c == content.end()) continue;
    auto a = added_ids.find(c->second);
    if (a != added_ids.end()) ids.emplace(k.name, a->second);
  }
  for (auto [kind, id] :
       {std::pair{"bos", config.bos_token_id}, std::pair{"eos", config.eos_token_id},
        std::pair{"pad", config.pad_token_id}}) {
    if (!id || ids.count(kind)) continue;
    if (*id >= n_vocab) {
      v.warnings.push_back(
          strfmt("config.json %s_token_id %lld is outside the vocabulary: "
                 "ignored",
                 kind, static_cast<long long>(*id)));
      continue;
    }
    ids.emplace(kind, static_cast<uint32_t>(*id));
  }
  for (const SpecialKind& k : kSpecialKinds) {
    auto it = ids.find(k.name);
    if (it != ids.end() && k.id_key != nullptr) v.special_ids.emplace_back(k.name, it->second);
  }

  // Chat template: tokenizer_config.json wins over the separate files newer transformers write.
  const Json* tmpl = have_tc ? tc.find("chat_template") : nullptr;
  Json alt;
  if (tmpl == nullptr || tmpl->is_null()) {
    const fs::path jinja = root / "chat_template.jinja";
    const fs::path json = root / "chat_template.json";
    if (fs::is_regular_file(jinja, ec)) {
      std::string text;
      PLM_RETURN_IF_ERROR(read_text(jinja, text));
      v.chat_template = std::move(text);
    } else if (fs::is_regular_file(json, ec)) {
      Result<Json> r = read_json(json);
      if (!r.ok()) return r.status();
      alt = std::move(*r);
      tmpl = alt.find("chat_template");
    }
  }
  if (tmpl != nullptr && tmpl->is_string()) {
    v.chat_template = *tmpl->as_string();
  } else if (tmpl != nullptr && tmpl->is_array()) {
    for (const Json& t : tmpl->items()) {
      const std::string* name = str_field(t, "name");
      const std::string* text = str_field(t, "template");
      if (name == nullptr || text == nullptr || name->empty()) continue;
      // Template names become part of a key, so only letters, digits and '_' are kept.
      std::string clean;
      for (char c : *name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        clean += ok ? c : '_';
      }
      if (clean == "default") {
        v.chat_template = *text;
      } else {
        v.named_chat_templates.emplace_back(clean, *text);
      }
    }
  } else if (tmpl != nullptr && !tmpl->is_null()) {
    v.warnings.push_back("chat_template is neither text nor a list: ignored");
  }
  return v;
}

Status write_vocab_metadata(const HfVocab& v, GgufWriter& w) {
  PLM_RETURN_IF_ERROR(w.set("tokenizer.ggml.model", GgufValue::string("gpt2")));
  PLM_RETURN_IF_ERROR(w.set("tokenizer.ggml.pre", GgufValue::string(v.pre)));
  PLM_RETURN_IF_ERROR(w.set("tokenizer.ggml.tokens", GgufValue::array(v.tokens)));
  PLM_RETURN_IF_ERROR(w.set("tokenizer.ggml.token_type", GgufValue::array(v.token_types)));
  PLM_RETURN_IF_ERROR(w.set("tokenizer.ggml.merges", GgufValue::array(v.merges)));
  for (const auto& [kind, id] : v.special_ids) {
    const SpecialKind* k = special_kind(kind);
    if (k != nullptr && k->id_key != nullptr) {
      PLM_RETURN_IF_ERROR(w.set(k->id_key, GgufValue::u32(id)));
    }
  }
  for (const auto& [kind, flag] : v.add_special) {
    const SpecialKind* k = special_kind(kind);
    if (k != nullptr && k->add_key != nullptr) {
      PLM_RETURN_IF_ERROR(w.set(k->add_key, GgufValue::boolean(flag)));
    }
  }
  if (!v.named_chat_templates.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, text] : v.named_chat_templates) {
      PLM_RETURN_IF_ERROR(w.set("tokenizer.chat_template." + name, GgufValue::string(text)));
      names.push_back(name);
    }
    PLM_RETURN_IF_ERROR(w.set("tokenizer.chat_templates", GgufValue::array(std::move(names))));
  }
  if (v.chat_template) {
    PLM_RETURN_IF_ERROR(w.set("tokenizer.chat_template", GgufValue::string(*v.chat_template)));
  }
  return Status();
}

}  // namespace pocketlm::convert
