// ChatTemplate::render: one function per family, each mirroring what the family's Jinja template
// writes for a system/user/assistant conversation (checked byte for byte against jinja2 by
// tests/unit/chat_template_test.cpp). Recognition and names: chat_template.cpp.
#include "tokenizer/chat_template.h"

#include <cstdint>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

namespace pocketlm {

namespace {

// Decodes the UTF-8 code point that ends at s[end - 1]; returns its byte length (1 for bytes
// that do not end a valid sequence, which then count as non-space).
size_t last_code_point(std::string_view s, size_t end, uint32_t* cp) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
    --start;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + start);
  const size_t len = end - start;
  if (len == 1 && p[0] < 0x80) {
    *cp = p[0];
  } else if (len == 2 && (p[0] & 0xE0) == 0xC0) {
    *cp = (static_cast<uint32_t>(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  } else if (len == 3 && (p[0] & 0xF0) == 0xE0) {
    *cp = (static_cast<uint32_t>(p[0] & 0x0F) << 12) | (static_cast<uint32_t>(p[1] & 0x3F) << 6) |
          (p[2] & 0x3F);
  } else {
    *cp = 0xFFFFFFFF;  // 4-byte sequences hold no whitespace; invalid bytes are kept.
    return 1;
  }
  return len;
}

size_t first_code_point(std::string_view s, size_t begin, uint32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + begin);
  const size_t left = s.size() - begin;
  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  if ((p[0] & 0xE0) == 0xC0 && left >= 2 && (p[1] & 0xC0) == 0x80) {
    *cp = (static_cast<uint32_t>(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if ((p[0] & 0xF0) == 0xE0 && left >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
    *cp = (static_cast<uint32_t>(p[0] & 0x0F) << 12) | (static_cast<uint32_t>(p[1] & 0x3F) << 6) |
          (p[2] & 0x3F);
    return 3;
  }
  *cp = 0xFFFFFFFF;
  return 1;
}

// Python's str.isspace(), which Jinja's `trim` (str.strip) uses: it removes Unicode spaces such
// as U+00A0 and U+3000 too, and the ASCII separators U+001C..U+001F.
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Jinja's `| trim`.
std::string_view trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  uint32_t cp = 0;
  while (begin < end) {
    const size_t n = first_code_point(s, begin, &cp);
    if (!is_python_space(cp)) break;
    begin += n;
  }
  while (end > begin) {
    const size_t n = last_code_point(s, end, &cp);
    if (!is_python_space(cp)) break;
    end -= n;
  }
  return s.substr(begin, end - begin);
}

Status validate(std::span<const ChatMessage> messages) {
  if (messages.empty()) return invalid_argument("chat: the conversation has no messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      return invalid_argument(
          strfmt("chat: message %zu has role '%s'; expected 'system', 'user' or 'assistant'", i,
                 role.c_str()));
    }
  }
  return Status();
}

// The error a template raises, with its own words, so users see what the model card says.
Status template_error(ChatFormat format, std::string_view what) {
  const std::string_view name = chat_format_name(format);
  return invalid_argument(strfmt("chat (%.*s template): %.*s", static_cast<int>(name.size()),
                                 name.data(), static_cast<int>(what.size()), what.data()));
}

}  // namespace

std::string ChatTemplate::today_date_string() const {
  if (llama_clock_format_.empty()) return llama_default_date_;
  std::chrono::year_month_day day;
  if (today_) {
    day = *today_;
  } else {
    // transformers' strftime_now is datetime.now(): the local date.
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    day = std::chrono::year_month_day(std::chrono::year(local.tm_year + 1900),
                                      std::chrono::month(static_cast<unsigned>(local.tm_mon + 1)),
                                      std::chrono::day(static_cast<unsigned>(local.tm_mday)));
  }
  const std::chrono::sys_days days(day);
  const std::chrono::year_month_day jan1(day.year(), std::chrono::January, std::chrono::day(1));
  std::tm tm{};
  tm.tm_year = static_cast<int>(day.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(day.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(day.day()));
  tm.tm_wday = static_cast<int>(std::chrono::weekday(days).c_encoding());
  tm.tm_yday = static_cast<int>((days - std::chrono::sys_days(jan1)).count());
  // Python formats month and day names in the C locale; so must we, whatever the process locale.
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os << std::put_time(&tm, llama_clock_format_.c_str());
  return os.str();
}

Result<std::string> ChatTemplate::render(std::span<const ChatMessage> messages,
                                         bool add_generation_prompt, std::string_view bos_text,
                                         std::string_view eos_text) const {
  PLM_RETURN_IF_ERROR(validate(messages));
  const std::string_view bos = emits_bos_ ? bos_text : std::string_view();
  switch (format_) {
    case ChatFormat::kChatML:
      return render_chatml(messages, add_generation_prompt, bos);
    case ChatFormat::kLlama3:
      return render_llama3(messages, add_generation_prompt, bos);
    case ChatFormat::kGemma:
      return render_gemma(messages, add_generation_prompt, bos);
    case ChatFormat::kPhi3:
      return render_phi3(messages, add_generation_prompt, bos, eos_text);
    case ChatFormat::kMistral:
      return render_mistral(messages, bos, eos_text);
    case ChatFormat::kDeepSeekR1:
      return render_deepseek_r1(messages, add_generation_prompt, bos);
  }
  return internal_error("chat: unknown format");
}

Result<std::string> ChatTemplate::render_chatml(std::span<const ChatMessage> m, bool gen,
                                                std::string_view bos) const {
  std::string out(bos);
  // SmolLM2 and Qwen2.5 write their default system turn only when the caller gave none.
  if (!default_system_.empty() && m[0].role != "system") {
    out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
  }
  for (const ChatMessage& msg : m) {
    out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

Result<std::string> ChatTemplate::render_llama3(std::span<const ChatMessage> m, bool gen,
                                                std::string_view bos) const {
  std::string out(bos);
  size_t first = 0;
  if (llama_date_header_) {
    // Llama 3.1+ always opens with a system turn: the knowledge-cutoff and date lines, then the
    // caller's (trimmed) system message if the conversation starts with one.
    std::string_view system;
    if (m[0].role == "system") {
      system = trim(m[0].content);
      first = 1;
    }
    out += "<|start_header_id|>system<|end_header_id|>\n\n";
    out += "Cutting Knowledge Date: " + llama_knowledge_date_ + "\n";
    out += "Today Date: " + today_date_string() + "\n\n";
    out += system;
    out += "<|eot_id|>";
  }
  for (size_t i = first; i < m.size(); ++i) {
    out += "<|start_header_id|>" + m[i].role + "<|end_header_id|>\n\n";
    out += trim(m[i].content);
    out += "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

Result<std::string> ChatTemplate::render_gemma(std::span<const ChatMessage> m, bool gen,
                                               std::string_view bos) const {
  std::string prefix;
  size_t first = 0;
  if (m[0].role == "system") {
    if (!gemma_folds_system_) return template_error(format_, "System role not supported");
    // Gemma has no system turn: Gemma 3 prepends the (untrimmed) system text to the first turn.
    prefix = m[0].content + gemma_system_separator_;
    first = 1;
  }
  // The template's check: even positions must be user turns and odd ones must not (a system
  // message at an odd position passes and is written as a "system" turn, as jinja2 does).
  for (size_t i = first; i < m.size(); ++i) {
    if ((m[i].role == "user") != ((i - first) % 2 == 0)) {
      return template_error(format_,
                            "Conversation roles must alternate user/assistant/user/assistant/...");
    }
  }
  std::string out(bos);
  for (size_t i = first; i < m.size(); ++i) {
    out += "<start_of_turn>";
    out += m[i].role == "assistant" ? std::string_view("model") : std::string_view(m[i].role);
    out += "\n";
    if (i == first) out += prefix;
    out += trim(m[i].content);
    out += "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

Result<std::string> ChatTemplate::render_phi3(std::span<const ChatMessage> m, bool gen,
                                              std::string_view bos, std::string_view eos) const {
  std::string out(bos);
  for (const ChatMessage& msg : m) {
    if (msg.role == "system") {
      // Phi-3.5 drops an empty system message entirely.
      if (phi3_skips_empty_system_ && msg.content.empty()) continue;
      out += "<|system|>\n" + msg.content + "<|end|>\n";
    } else if (msg.role == "user") {
      out += "<|user|>\n" + msg.content + "<|end|>\n";
    } else {
      out += "<|assistant|>\n" + msg.content + "<|end|>\n";
    }
  }
  if (gen) {
    out += "<|assistant|>\n";
  } else if (phi3_eos_without_generation_prompt_) {
    // A finished conversation (e.g. for training or scoring) ends with EOS.
    out += eos;
  }
  return out;
}

Result<std::string> ChatTemplate::render_mistral(std::span<const ChatMessage> m,
                                                 std::string_view bos, std::string_view eos) const {
  const bool has_system = m[0].role == "system";
  const size_t first = has_system ? 1 : 0;
  for (size_t i = first; i < m.size(); ++i) {
    if ((m[i].role == "user") != ((i - first) % 2 == 0)) {
      return template_error(format_,
                            "After the optional system message, conversation roles must alternate "
                            "user/assistant/user/assistant/...");
    }
  }
  std::string out(bos);
  for (size_t i = first; i < m.size(); ++i) {
    const ChatMessage& msg = m[i];
    if (msg.role == "user") {
      out += "[INST]";
      // Mistral Nemo puts the system prompt in the LAST message only, and only when that is a
      // user message: a conversation that ends with the assistant carries no system text.
      if (has_system && i + 1 == m.size()) out += m[0].content + "\n\n";
      out += msg.content + "[/INST]";
    } else if (msg.role == "assistant") {
      out += msg.content;
      out += eos;
    } else {
      return template_error(format_,
                            "Only user and assistant roles are supported, with the exception of "
                            "an initial optional system message!");
    }
  }
  // The template has no generation prompt: "[/INST]" already hands the turn to the assistant.
  return out;
}

Result<std::string> ChatTemplate::render_deepseek_r1(std::span<const ChatMessage> m, bool gen,
                                                     std::string_view bos) const {
  // The system prompt is the LAST system message's text, written right after BOS, untagged.
  std::string out(bos);
  for (auto it = m.rbegin(); it != m.rend(); ++it) {
    if (it->role == "system") {
      out += it->content;
      break;
    }
  }
  for (const ChatMessage& msg : m) {
    if (msg.role == "user") {
      out += "<｜User｜>" + msg.content;
      if (deepseek_user_turn_eos_) out += "<｜end▁of▁sentence｜>";
    } else if (msg.role == "assistant") {
      // Earlier replies are kept without their reasoning: only the text after the last
      // "</think>" goes back into the prompt.
      std::string_view reply = msg.content;
      constexpr std::string_view kThinkEnd = "</think>";
      const size_t think_end = reply.rfind(kThinkEnd);
      if (think_end != std::string_view::npos) reply.remove_prefix(think_end + kThinkEnd.size());
      out += "<｜Assistant｜>";
      out += reply;
      out += "<｜end▁of▁sentence｜>";
    }
  }
  if (gen) out += "<｜Assistant｜><think>\n";
  return out;
}

}  // namespace pocketlm
