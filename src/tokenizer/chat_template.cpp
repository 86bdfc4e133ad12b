// Chat template names and recognition of GGUF Jinja templates (rendering: chat_render.cpp).
//
// Recognition works on a normalized copy of the source in which the spellings that do not
// change the output are unified (quote style, `message.role` vs `message['role']`, spaces around
// `+` and `|`, real newlines vs the `\n` escape inside literals), so that one signature per family
// matches every published spelling of it. A family is accepted only when its signature (the
// expression that writes one turn) is present; the per-model details are then read from the raw
// source.
#include "tokenizer/chat_template.h"

#include <array>
#include <cctype>
#include <cstdint>

#include "core/utf8.h"

namespace pocketlm {

namespace {

struct NamedTemplate {
  std::string_view name;
  ChatFormat format;
};

constexpr std::array<NamedTemplate, 10> kNamedTemplates = {{
    {"chatml", ChatFormat::kChatML},
    {"qwen", ChatFormat::kChatML},
    {"llama3", ChatFormat::kLlama3},
    {"llama3.1", ChatFormat::kLlama3},
    {"llama3.2", ChatFormat::kLlama3},
    {"gemma", ChatFormat::kGemma},
    {"gemma2", ChatFormat::kGemma},
    {"phi3", ChatFormat::kPhi3},
    {"mistral", ChatFormat::kMistral},
    {"deepseek-r1", ChatFormat::kDeepSeekR1},
}};

constexpr std::string_view kQwenDefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

std::string names_list() {
  std::string out;
  for (const NamedTemplate& t : kNamedTemplates) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

// See the file comment. Only used to test for signatures, never to extract text.
std::string normalize(std::string_view src) {
  std::string s;
  s.reserve(src.size());
  for (char c : src) {
    if (c == '"') {
      s += '\'';
    } else if (c == '\n') {
      s += "\\n";
    } else if (c != '\r') {
      s += c;
    }
  }
  auto replace_all = [&s](std::string_view from, std::string_view to) {
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
      s.replace(pos, from.size(), to);
    }
  };
  replace_all("message.role", "message['role']");
  replace_all("message.content", "message['content']");
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '\t') {
      size_t j = i;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      const bool before_op = j < s.size() && (s[j] == '+' || s[j] == '|');
      const bool after_op = !out.empty() && (out.back() == '+' || out.back() == '|');
      if (!before_op && !after_op) out.append(s, i, j - i);
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

// Parses the Jinja string literal that starts at src[pos] (a ' or " quote) and returns its value:
// Jinja decodes literals with Python's escape rules (\n, \t, \\, \', \xHH, \uXXXX, ...).
std::optional<std::string> parse_literal(std::string_view src, size_t pos) {
  if (pos >= src.size() || (src[pos] != '\'' && src[pos] != '"')) return std::nullopt;
  const char quote = src[pos];
  std::string out;
  for (size_t i = pos + 1; i < src.size(); ++i) {
    const char c = src[i];
    if (c == quote) return out;
    if (c == '\r') continue;  // Jinja normalizes newlines to "\n".
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= src.size()) return std::nullopt;
    const char e = src[i];
    auto hex = [&](size_t digits) -> std::optional<uint32_t> {
      if (i + digits >= src.size()) return std::nullopt;
      uint32_t v = 0;
      for (size_t k = 1; k <= digits; ++k) {
        const char h = src[i + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) return std::nullopt;
        v = v * 16 +
            static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                      ? h - '0'
                                      : (std::tolower(static_cast<unsigned char>(h)) - 'a' + 10));
      }
      i += digits;
      return v;
    };
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case '\n':
        break;  // Line continuation.
      case 'x':
      case 'u':
      case 'U': {
        std::optional<uint32_t> cp = hex(e == 'x' ? 2 : e == 'u' ? 4 : 8);
        if (!cp || *cp > 0x10FFFF) return std::nullopt;
        utf8_append(out, *cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < src.size() && src[i + 1] >= '0' && src[i + 1] <= '7';
               ++k) {
            v = v * 8 + static_cast<uint32_t>(src[++i] - '0');
          }
          utf8_append(out, v);
        } else {
          out += '\\';  // Python keeps unknown escapes as written.
          out += e;
        }
    }
  }
  return std::nullopt;
}

// The literal assigned or passed right after `key` (e.g. `date_string = "26 Jul 2024"` or
// `strftime_now("%d %b %Y")`): skips spaces, '=', '+' and '(' up to the opening quote. The first
// occurrence followed by a literal wins (`set date_string = strftime_now(...)` is passed over).
std::optional<std::string> literal_after(std::string_view src, std::string_view key) {
  for (size_t at = src.find(key); at != std::string_view::npos; at = src.find(key, at + 1)) {
    size_t i = at + key.size();
    while (i < src.size() && (src[i] == ' ' || src[i] == '=' || src[i] == '+' || src[i] == '(')) {
      ++i;
    }
    if (std::optional<std::string> lit = parse_literal(src, i)) return lit;
  }
  return std::nullopt;
}

// The text of a single literal that starts with `prefix` (spelled as in the source, `raw`) and
// runs on to `terminator`, as in '<|im_start|>system\nYou are ...<|im_end|>\n'. Occurrences whose
// literal ends before the terminator (a concatenation such as
// '<|im_start|>system\n' + messages[0]['content']) are skipped. Returns the decoded text between.
std::optional<std::string> literal_between(std::string_view src, std::string_view raw,
                                           std::string_view prefix, std::string_view terminator) {
  for (size_t at = src.find(raw); at != std::string_view::npos; at = src.find(raw, at + 1)) {
    if (at == 0 || (src[at - 1] != '\'' && src[at - 1] != '"')) continue;
    std::optional<std::string> lit = parse_literal(src, at - 1);
    if (!lit || !lit->starts_with(prefix)) continue;
    const size_t end = lit->find(terminator, prefix.size());
    if (end == std::string::npos) continue;
    return lit->substr(prefix.size(), end - prefix.size());
  }
  return std::nullopt;
}

std::string snippet(std::string_view src) {
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < src.size() && n < 60; ++i, ++n) {
    if (src[i] == '\n') {
      out += "\\n";
    } else if (src[i] == '\r' || src[i] == '\t') {
      out += ' ';
    } else {
      out += src[i];
    }
  }
  if (src.size() > 60) out += "...";
  return out;
}

}  // namespace

// Reads a template's family and details. A friend of ChatTemplate: it fills the private fields.
class ChatTemplateRecognizer {
 public:
  static Result<ChatTemplate> named(std::string_view name);
  static Result<ChatTemplate> recognize(std::string_view src);
  static Result<ChatTemplate> from_architecture(std::string_view arch);
};

Result<ChatTemplate> ChatTemplateRecognizer::named(std::string_view name) {
  Result<ChatFormat> format = chat_format_from_name(name);
  if (!format.ok()) return format.status();
  ChatTemplate t(*format);
  switch (*format) {
    case ChatFormat::kChatML:
      if (name == "qwen") t.default_system_ = kQwenDefaultSystem;
      break;
    case ChatFormat::kLlama3:
      t.emits_bos_ = true;
      t.llama_date_header_ = name != "llama3";
      if (name == "llama3.2") t.llama_clock_format_ = "%d %b %Y";
      break;
    case ChatFormat::kGemma:
      t.emits_bos_ = true;
      t.gemma_folds_system_ = name != "gemma2";
      break;
    case ChatFormat::kPhi3:
      break;
    case ChatFormat::kMistral:
    case ChatFormat::kDeepSeekR1:
      t.emits_bos_ = true;
      break;
  }
  return t;
}

Result<ChatTemplate> ChatTemplateRecognizer::recognize(std::string_view src) {
  const std::string n = normalize(src);
  const bool writes_bos = contains(src, "bos_token");

  // A model's secondary "tool_use" template writes its tool preamble whether or not tools are
  // given: it loops over `tools` without ever testing them. Its plain chat rendering is not the
  // family's, so refuse it rather than drop the preamble.
  if (contains(n, " in tools") && !contains(n, "if tools") && !contains(n, "tools is")) {
    return unsupported(strfmt(
        "chat template \"%s\" is a tool-use template (it always writes a tool-calling preamble); "
        "pocketlm renders plain chat only: pass --chat-template NAME (one of: %s)",
        snippet(src).c_str(), names_list().c_str()));
  }

  std::string_view family_hint;
  if (contains(n, "<｜User｜>")) {
    family_hint = "deepseek-r1";
    if (contains(n, "'<｜User｜>'+message['content']") &&
        contains(n, "'<｜Assistant｜>'+content+'<｜end▁of▁sentence｜>'") &&
        contains(n, "split('</think>')") && contains(n, "<｜Assistant｜><think>\\n")) {
      ChatTemplate t(ChatFormat::kDeepSeekR1);
      t.emits_bos_ = writes_bos;
      t.deepseek_user_turn_eos_ =
          contains(n, "'<｜User｜>'+message['content']+'<｜end▁of▁sentence｜>'");
      return t;
    }
  } else if (contains(n, "<|start_header_id|>")) {
    family_hint = "llama3";
    if (contains(n,
                 "'<|start_header_id|>'+message['role']+'<|end_header_id|>\\n\\n'+message['"
                 "content']|trim+'<|eot_id|>'")) {
      ChatTemplate t(ChatFormat::kLlama3);
      t.emits_bos_ = writes_bos;
      constexpr std::string_view kKnowledge = "Cutting Knowledge Date: ";
      const size_t k = src.find(kKnowledge);
      if (k != std::string_view::npos) {
        t.llama_date_header_ = true;
        const size_t start = k + kKnowledge.size();
        size_t end = start;
        while (end < src.size() && src[end] != '\\' && src[end] != '\n' && src[end] != '"' &&
               src[end] != '\'') {
          ++end;
        }
        t.llama_knowledge_date_ = std::string(src.substr(start, end - start));
        if (auto d = literal_after(src, "set date_string")) t.llama_default_date_ = *d;
        if (contains(src, "strftime_now")) {
          std::optional<std::string> fmt = literal_after(src, "strftime_now(");
          if (!fmt) {
            return unsupported(
                "chat template calls strftime_now without a literal format; "
                "pass --chat-template llama3.2");
          }
          t.llama_clock_format_ = *fmt;
        }
      }
      return t;
    }
  } else if (contains(n, "<|im_start|>")) {
    family_hint = "chatml";
    if (contains(n, "'<|im_start|>'+message['role']+'\\n'+message['content']+'<|im_end|>")) {
      ChatTemplate t(ChatFormat::kChatML);
      t.emits_bos_ = writes_bos;
      constexpr std::string_view kHead = "<|im_start|>system\n";
      std::optional<std::string> sys = literal_between(src, kHead, kHead, "<|im_end|>");
      if (!sys) sys = literal_between(src, "<|im_start|>system\\n", kHead, "<|im_end|>");
      if (sys) t.default_system_ = *sys;
      return t;
    }
  } else if (contains(n, "<start_of_turn>")) {
    family_hint = "gemma";
    if (contains(n, "'<start_of_turn>'+role+'\\n'") && contains(n, "message['content']|trim") &&
        contains(n, "<end_of_turn>\\n")) {
      ChatTemplate t(ChatFormat::kGemma);
      t.emits_bos_ = writes_bos;
      const size_t prefix = src.find("first_user_prefix");
      if (contains(src, "System role not supported") || prefix == std::string_view::npos) {
        t.gemma_folds_system_ = false;
      } else {
        std::optional<std::string> sep =
            literal_after(src.substr(prefix), "messages[0]['content']");
        if (!sep) {
          return unsupported(
              strfmt("chat template \"%s\" looks like Gemma but its system prefix "
                     "is not a literal: pass --chat-template gemma",
                     snippet(src).c_str()));
        }
        t.gemma_system_separator_ = *sep;
      }
      return t;
    }
  } else if (contains(n, "<|user|>")) {
    family_hint = "phi3";
    if (contains(n, "'<|user|>\\n'+message['content']+'<|end|>\\n'") &&
        contains(n, "'<|assistant|>\\n'+message['content']+'<|end|>\\n'") &&
        contains(n, "'<|system|>\\n'+message['content']+'<|end|>\\n'")) {
      ChatTemplate t(ChatFormat::kPhi3);
      t.emits_bos_ = writes_bos;
      t.phi3_skips_empty_system_ = contains(n, "'system' and message['content']");
      t.phi3_eos_without_generation_prompt_ = contains(n, "eos_token");
      return t;
    }
  } else if (contains(n, "[INST]")) {
    family_hint = "mistral";
    if (contains(n, "'[INST]'+message['content']+'[/INST]'") &&
        contains(n, "'[INST]'+system_message+'\\n\\n'+message['content']+'[/INST]'") &&
        contains(n, "loop.last and system_message is defined") &&
        contains(n, "message['content']+eos_token")) {
      ChatTemplate t(ChatFormat::kMistral);
      t.emits_bos_ = writes_bos;
      return t;
    }
  }

  if (!family_hint.empty()) {
    return unsupported(
        strfmt("chat template \"%s\" looks like the %.*s family but is a variant pocketlm does not "
               "reproduce exactly: pass --chat-template NAME (one of: %s)",
               snippet(src).c_str(), static_cast<int>(family_hint.size()), family_hint.data(),
               names_list().c_str()));
  }
  return unsupported(
      strfmt("unrecognized chat template \"%s\": pass --chat-template NAME (one of: %s)",
             snippet(src).c_str(), names_list().c_str()));
}

Result<ChatTemplate> ChatTemplateRecognizer::from_architecture(std::string_view arch) {
  // Only architectures whose models all chat one way. Gemma 1/2 templates reject a system
  // message; without a template to say so we fold it into the first turn as Gemma 3 does.
  if (arch == "gemma" || arch == "gemma2" || arch == "gemma3" || arch == "gemma3n") {
    return named("gemma");
  }
  if (arch == "phi3") return named("phi3");
  if (arch == "qwen2" || arch == "qwen2moe" || arch == "qwen3" || arch == "qwen3moe") {
    return named("chatml");
  }
  return not_found(strfmt(
      "the model has no tokenizer.chat_template and its architecture '%.*s' does not determine "
      "a chat format: pass --chat-template NAME (one of: %s)",
      static_cast<int>(arch.size()), arch.data(), names_list().c_str()));
}

std::string_view chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatML:
      return "chatml";
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kGemma:
      return "gemma";
    case ChatFormat::kPhi3:
      return "phi3";
    case ChatFormat::kMistral:
      return "mistral";
    case ChatFormat::kDeepSeekR1:
      return "deepseek-r1";
  }
  return "unknown";
}

Result<ChatFormat> chat_format_from_name(std::string_view name) {
  for (const NamedTemplate& t : kNamedTemplates) {
    if (t.name == name) return t.format;
  }
  return invalid_argument(strfmt("unknown chat template name '%.*s' (known: %s)",
                                 static_cast<int>(name.size()), name.data(), names_list().c_str()));
}

std::vector<std::string_view> chat_template_names() {
  std::vector<std::string_view> names;
  for (const NamedTemplate& t : kNamedTemplates) names.push_back(t.name);
  return names;
}

Result<ChatTemplate> ChatTemplate::from_gguf_template(std::string_view jinja_source,
                                                      std::string_view architecture) {
  const bool blank = jinja_source.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) return ChatTemplateRecognizer::from_architecture(architecture);
  return ChatTemplateRecognizer::recognize(jinja_source);
}

Result<ChatTemplate> ChatTemplate::from_name(std::string_view name) {
  return ChatTemplateRecognizer::named(name);
}

std::vector<std::string> ChatTemplate::stop_strings() const {
  switch (format_) {
    case ChatFormat::kChatML:
      return {"<|im_end|>"};
    case ChatFormat::kLlama3:
      return {"<|eot_id|>"};
    case ChatFormat::kGemma:
      return {"<end_of_turn>"};
    case ChatFormat::kPhi3:
      return {"<|end|>"};
    case ChatFormat::kMistral:
      return {"</s>"};
    case ChatFormat::kDeepSeekR1:
      return {"<｜end▁of▁sentence｜>"};
  }
  return {};
}

}  // namespace pocketlm
