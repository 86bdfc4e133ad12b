// Chat formatting: turns a conversation into the prompt text a chat-tuned model was trained on.
//
// Usage:
//   // From the GGUF's `tokenizer.chat_template` (may be empty) and `general.architecture`:
//   Result<ChatTemplate> tmpl = ChatTemplate::from_gguf_template(jinja_source, "llama");
//   // ...or from a `--chat-template NAME` override:
//   Result<ChatTemplate> tmpl = ChatTemplate::from_name("llama3.2");
//   if (!tmpl.ok()) return tmpl.status();
//   std::vector<ChatMessage> conv = {{"system", "Be brief."}, {"user", "Hi"}};
//   Result<std::string> prompt =
//       tmpl->render(conv, /*add_generation_prompt=*/true, "<|begin_of_text|>", "<|eot_id|>");
//   // Tokenize *prompt with special tokens parsed. Add the BOS token only when
//   // !tmpl->emits_bos(): the template already wrote it otherwise. Stop generating at the EOS
//   // token or at any of tmpl->stop_strings().
//
// pocketlm carries no Jinja interpreter. A chat template is recognized by the distinctive
// markers of its family (ChatML, Llama 3, Gemma, Phi-3, Mistral, DeepSeek-R1), the per-model
// details that change the rendered bytes are read out of the source (a default system prompt, a
// system-prompt separator, whether BOS is written, a date header...), and a C++ renderer
// mirrors what the template does for plain system/user/assistant conversations. Renderings are
// tested byte for byte against Python jinja2 on the real templates (scripts/gen_chat_golden.py).
// Templates outside these families, or variants whose output we do not reproduce, are rejected
// with an error that suggests --chat-template, never rendered by guess.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pocketlm {

// Template families. Flavours of a family (see ChatTemplate::from_name) share one renderer.
enum class ChatFormat {
  kChatML,      // <|im_start|>role\n...<|im_end|>\n   (Qwen2.5, SmolLM2, many fine-tunes)
  kLlama3,      // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>   (Llama 3.x)
  kGemma,       // <start_of_turn>user\n...<end_of_turn>\n   (Gemma 1/2/3)
  kPhi3,        // <|user|>\n...<|end|>\n   (Phi-3 / Phi-3.5)
  kMistral,     // [INST]...[/INST]...</s>   (Mistral Nemo, "v3-tekken" layout)
  kDeepSeekR1,  // <｜User｜>...<｜Assistant｜>...   (DeepSeek-R1 and its distills)
};

// "chatml", "llama3", "gemma", "phi3", "mistral", "deepseek-r1".
std::string_view chat_format_name(ChatFormat format);
// Accepts family names and flavour names ("qwen" -> kChatML, "llama3.2" -> kLlama3, ...).
Result<ChatFormat> chat_format_from_name(std::string_view name);
// Every name ChatTemplate::from_name accepts, for help texts and error messages.
std::vector<std::string_view> chat_template_names();

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

class ChatTemplate {
 public:
  // Recognizes `jinja_source` (a GGUF's tokenizer.chat_template). When the source is empty
  // (the model ships none), the family is inferred from the GGUF architecture name (gemma* ->
  // gemma, phi3 -> phi3, qwen2/qwen3 -> chatml); "llama" and unknown names are an error, since
  // llama-architecture models use several formats.
  static Result<ChatTemplate> from_gguf_template(std::string_view jinja_source,
                                                 std::string_view architecture);
  // A named format for the --chat-template override: a family name or one of the flavours
  //   chatml      ChatML without a default system prompt
  //   qwen        ChatML with Qwen2.5's default system prompt
  //   llama3      Llama 3.0: one header per message, no system preamble
  //   llama3.1    Llama 3.1/3.3: system preamble with "Today Date: 26 Jul 2024"
  //   llama3.2    Llama 3.2: system preamble with today's date
  //   gemma       Gemma 3: a system message is folded into the first user turn
  //   gemma2      Gemma 1/2: a system message is an error
  //   phi3        Phi-3.5 layout
  //   mistral     Mistral Nemo layout
  //   deepseek-r1 DeepSeek-R1 (distills) layout
  static Result<ChatTemplate> from_name(std::string_view name);

  // Renders `messages` as the template would with transformers' apply_chat_template. Roles are
  // "system", "user", "assistant" (anything else is an error, also where a template would skip
  // it silently); the conversation must not be empty. Where the real template raises (Gemma's
  // and Mistral's role alternation, Gemma 2's system message), so does render, with the
  // template's own message. bos_text/eos_text are the model's BOS/EOS token texts.
  Result<std::string> render(std::span<const ChatMessage> messages, bool add_generation_prompt,
                             std::string_view bos_text, std::string_view eos_text) const;

  // End-of-turn markers that end an assistant reply ("<|im_end|>", "<|eot_id|>", ...).
  std::vector<std::string> stop_strings() const;

  ChatFormat format() const { return format_; }
  // True when render() writes bos_text at the very start: the caller must not add BOS again.
  bool emits_bos() const { return emits_bos_; }
  // ChatML: the system prompt written when the conversation does not open with one ("" if none).
  const std::string& default_system_prompt() const { return default_system_; }
  // Gemma: a leading system message is prepended to the first user turn (else it is an error).
  bool folds_system_into_user() const { return gemma_folds_system_; }
  // Llama 3.1+: the system header carries "Cutting Knowledge Date" and "Today Date" lines.
  bool has_date_header() const { return llama_date_header_; }
  // Llama 3.2: the date in the header is today's, formatted with this strftime format ("" when
  // the date is the fixed default_date()).
  const std::string& clock_date_format() const { return llama_clock_format_; }
  const std::string& default_date() const { return llama_default_date_; }

  // The Llama 3.1+ date line, as transformers renders it when apply_chat_template gets no
  // date_string: Llama 3.1/3.3 templates fall back to their literal "26 Jul 2024"; Llama 3.2
  // calls strftime_now("%d %b %Y"), which transformers defines, so it is today's date there.
  // Pins "today" for templates that read the clock (Llama 3.2's strftime_now), for reproducible
  // prompts and tests. Without it, render() uses the local date, as transformers does.
  void set_today(std::chrono::year_month_day day) { today_ = day; }

 private:
  explicit ChatTemplate(ChatFormat format) : format_(format) {}

  std::string today_date_string() const;
  Result<std::string> render_chatml(std::span<const ChatMessage> m, bool gen,
                                    std::string_view bos) const;
  Result<std::string> render_llama3(std::span<const ChatMessage> m, bool gen,
                                    std::string_view bos) const;
  Result<std::string> render_gemma(std::span<const ChatMessage> m, bool gen,
                                   std::string_view bos) const;
  Result<std::string> render_phi3(std::span<const ChatMessage> m, bool gen, std::string_view bos,
                                  std::string_view eos) const;
  Result<std::string> render_mistral(std::span<const ChatMessage> m, std::string_view bos,
                                     std::string_view eos) const;
  Result<std::string> render_deepseek_r1(std::span<const ChatMessage> m, bool gen,
                                         std::string_view bos) const;

  friend class ChatTemplateRecognizer;

  ChatFormat format_;
  bool emits_bos_ = false;
  std::string default_system_;  // ChatML
  // Llama 3.
  bool llama_date_header_ = false;
  std::string llama_knowledge_date_ = "December 2023";
  std::string llama_default_date_ = "26 Jul 2024";
  std::string llama_clock_format_;
  // Gemma.
  bool gemma_folds_system_ = true;
  std::string gemma_system_separator_ = "\n\n";
  // Phi-3.
  bool phi3_skips_empty_system_ = true;
  bool phi3_eos_without_generation_prompt_ = true;
  // DeepSeek-R1: the llama.cpp flavour also closes user turns with end-of-sentence.
  bool deepseek_user_turn_eos_ = false;
  std::optional<std::chrono::year_month_day> today_;
};

}  // namespace pocketlm
