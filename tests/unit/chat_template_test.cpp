// Chat formatting: recognition of real GGUF chat templates and byte-exact renderings against
// jinja2 goldens (tests/data/chat/*.json, made by scripts/gen_chat_golden.py), plus the named
// overrides, the architecture fallback and the error paths.
#include "tokenizer/chat_template.h"

#include "support/json_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace pocketlm {
namespace {

namespace fs = std::filesystem;
using std::chrono::year_month_day;

using testing::Json;
using testing::JsonParser;

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path golden_dir() { return fs::path(POCKETLM_SOURCE_DIR) / "tests" / "data" / "chat"; }
fs::path shared_templates() { return fs::path(POCKETLM_SHARED_DIR) / "chat-templates"; }

std::vector<std::string> golden_stems() {
  std::vector<std::string> stems;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(golden_dir(), ec)) {
    if (entry.path().extension() == ".json") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

year_month_day parse_iso_date(const std::string& iso) {
  return year_month_day(std::chrono::year(std::stoi(iso.substr(0, 4))),
                        std::chrono::month(static_cast<unsigned>(std::stoi(iso.substr(5, 2)))),
                        std::chrono::day(static_cast<unsigned>(std::stoi(iso.substr(8, 2)))));
}

// --- Goldens: one test per template. ---

class ChatTemplateGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGolden, MatchesJinja2) {
  const fs::path path = golden_dir() / (GetParam() + ".json");
  Json doc;
  ASSERT_TRUE(JsonParser(read_file(path)).parse(&doc)) << "malformed golden " << path;

  std::string source;
  if (!doc["template_source"].is_null()) {
    source = doc["template_source"].str;
  } else {
    const fs::path tmpl = shared_templates() / doc["template_file"].str;
    if (!fs::exists(tmpl)) GTEST_SKIP() << tmpl << " not found (../shared is absent)";
    source = read_file(tmpl);
  }

  Result<ChatTemplate> recognized =
      ChatTemplate::from_gguf_template(source, doc["architecture"].str);
  if (doc["family"].is_null()) {
    ASSERT_FALSE(recognized.ok()) << "should be rejected, got "
                                  << chat_format_name(recognized->format());
    EXPECT_EQ(recognized.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(recognized.status().message().find("--chat-template"), std::string::npos);
    return;
  }
  ASSERT_TRUE(recognized.ok()) << recognized.status().message();
  ChatTemplate tmpl = recognized.value();
  EXPECT_EQ(chat_format_name(tmpl.format()), doc["family"].str);
  tmpl.set_today(parse_iso_date(doc["today"].str));

  const Json& cases = doc["cases"];
  ASSERT_GT(cases.items.size(), 0u);
  for (const Json& c : cases.items) {
    SCOPED_TRACE(c["name"].str);
    std::vector<ChatMessage> messages;
    for (const Json& m : c["messages"].items) messages.push_back({m["role"].str, m["content"].str});
    Result<std::string> got =
        tmpl.render(messages, c["add_generation_prompt"].boolean, doc["bos"].str, doc["eos"].str);
    if (!c["error"].is_null()) {
      ASSERT_FALSE(got.ok()) << "jinja2 raised \"" << c["error"].str << "\" but we rendered:\n"
                             << got.value();
      EXPECT_NE(got.status().message().find(c["error"].str), std::string::npos)
          << got.status().message();
    } else {
      ASSERT_TRUE(got.ok()) << got.status().message();
      EXPECT_EQ(got.value(), c["expected"].str);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateGolden, ::testing::ValuesIn(golden_stems()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(ChatTemplateGoldenData, CoversEveryFamily) {
  std::map<std::string, int> families;
  for (const std::string& stem : golden_stems()) {
    Json doc;
    ASSERT_TRUE(JsonParser(read_file(golden_dir() / (stem + ".json"))).parse(&doc)) << stem;
    if (!doc["family"].is_null()) ++families[doc["family"].str];
  }
  for (std::string_view f : {"chatml", "llama3", "gemma", "phi3", "mistral", "deepseek-r1"}) {
    EXPECT_GT(families[std::string(f)], 0) << "no golden for " << f;
  }
}

// --- Names and overrides. ---

TEST(ChatTemplateNames, FamiliesRoundTrip) {
  for (ChatFormat f : {ChatFormat::kChatML, ChatFormat::kLlama3, ChatFormat::kGemma,
                       ChatFormat::kPhi3, ChatFormat::kMistral, ChatFormat::kDeepSeekR1}) {
    Result<ChatFormat> back = chat_format_from_name(chat_format_name(f));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, f);
  }
  EXPECT_EQ(*chat_format_from_name("qwen"), ChatFormat::kChatML);
  EXPECT_EQ(*chat_format_from_name("llama3.2"), ChatFormat::kLlama3);
  EXPECT_EQ(*chat_format_from_name("gemma2"), ChatFormat::kGemma);
  for (std::string_view name : chat_template_names()) {
    EXPECT_TRUE(ChatTemplate::from_name(name).ok()) << name;
  }
}

TEST(ChatTemplateNames, UnknownNameListsTheKnownOnes) {
  Result<ChatTemplate> t = ChatTemplate::from_name("vicuna");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("'vicuna'"), std::string::npos);
  EXPECT_NE(t.status().message().find("chatml, qwen, llama3"), std::string::npos);
}

TEST(ChatTemplateNames, FlavourDetails) {
  EXPECT_EQ(ChatTemplate::from_name("chatml")->default_system_prompt(), "");
  EXPECT_FALSE(ChatTemplate::from_name("chatml")->emits_bos());
  EXPECT_EQ(ChatTemplate::from_name("qwen")->default_system_prompt(),
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  EXPECT_FALSE(ChatTemplate::from_name("llama3")->has_date_header());
  EXPECT_TRUE(ChatTemplate::from_name("llama3.1")->has_date_header());
  EXPECT_EQ(ChatTemplate::from_name("llama3.1")->clock_date_format(), "");
  EXPECT_EQ(ChatTemplate::from_name("llama3.2")->clock_date_format(), "%d %b %Y");
  EXPECT_TRUE(ChatTemplate::from_name("gemma")->folds_system_into_user());
  EXPECT_FALSE(ChatTemplate::from_name("gemma2")->folds_system_into_user());
  EXPECT_TRUE(ChatTemplate::from_name("gemma")->emits_bos());
  EXPECT_FALSE(ChatTemplate::from_name("phi3")->emits_bos());
}

TEST(ChatTemplateNames, NamedRenderings) {
  const std::vector<ChatMessage> conv = {{"system", "Sys."}, {"user", " Hi "}};
  EXPECT_EQ(*ChatTemplate::from_name("chatml")->render(conv, true, "<s>", "</s>"),
            "<|im_start|>system\nSys.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(*ChatTemplate::from_name("llama3")->render(conv, true, "<B>", "<E>"),
            "<B><|start_header_id|>system<|end_header_id|>\n\nSys.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(*ChatTemplate::from_name("llama3.1")->render(conv, false, "<B>", "<E>"),
            "<B><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December "
            "2023\nToday Date: 26 Jul 2024\n\nSys.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  EXPECT_EQ(*ChatTemplate::from_name("gemma")->render(conv, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nSys.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
  Result<std::string> g2 = ChatTemplate::from_name("gemma2")->render(conv, true, "<bos>", "");
  ASSERT_FALSE(g2.ok());
  EXPECT_NE(g2.status().message().find("System role not supported"), std::string::npos);
  EXPECT_EQ(*ChatTemplate::from_name("phi3")->render(conv, false, "<s>", "<|endoftext|>"),
            "<|system|>\nSys.<|end|>\n<|user|>\n Hi <|end|>\n<|endoftext|>");
  EXPECT_EQ(*ChatTemplate::from_name("mistral")->render(conv, true, "<s>", "</s>"),
            "<s>[INST]Sys.\n\n Hi [/INST]");
  EXPECT_EQ(*ChatTemplate::from_name("deepseek-r1")->render(conv, true, "<B>", "<E>"),
            "<B>Sys.<｜User｜> Hi <｜Assistant｜><think>\n");
}

TEST(ChatTemplateNames, StopStrings) {
  auto stops = [](std::string_view name) { return ChatTemplate::from_name(name)->stop_strings(); };
  EXPECT_EQ(stops("chatml"), std::vector<std::string>{"<|im_end|>"});
  EXPECT_EQ(stops("llama3.2"), std::vector<std::string>{"<|eot_id|>"});
  EXPECT_EQ(stops("gemma"), std::vector<std::string>{"<end_of_turn>"});
  EXPECT_EQ(stops("phi3"), std::vector<std::string>{"<|end|>"});
  EXPECT_EQ(stops("mistral"), std::vector<std::string>{"</s>"});
  EXPECT_EQ(stops("deepseek-r1"), std::vector<std::string>{"<｜end▁of▁sentence｜>"});
}

// --- The architecture fallback (GGUF without tokenizer.chat_template). ---

TEST(ChatTemplateArchFallback, InfersFamilyFromArchitecture) {
  for (std::string_view arch : {"gemma", "gemma2", "gemma3", "gemma3n"}) {
    Result<ChatTemplate> t = ChatTemplate::from_gguf_template("", arch);
    ASSERT_TRUE(t.ok()) << arch;
    EXPECT_EQ(t->format(), ChatFormat::kGemma);
    EXPECT_TRUE(t->folds_system_into_user());
    EXPECT_TRUE(t->emits_bos());
  }
  EXPECT_EQ(ChatTemplate::from_gguf_template("", "phi3")->format(), ChatFormat::kPhi3);
  EXPECT_EQ(ChatTemplate::from_gguf_template(" \n", "qwen2")->format(), ChatFormat::kChatML);
  EXPECT_EQ(ChatTemplate::from_gguf_template("", "qwen3")->default_system_prompt(), "");
}

TEST(ChatTemplateArchFallback, Gemma3ModelWithoutTemplateRenders) {
  // gemma-3-270m's GGUF carries no template: the Gemma 3 rules apply.
  ChatTemplate t = ChatTemplate::from_gguf_template("", "gemma3").value();
  const std::vector<ChatMessage> conv = {
      {"system", "Be kind."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye "}};
  EXPECT_EQ(*t.render(conv, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nBe kind.\n\nHi<end_of_turn>\n"
            "<start_of_turn>model\nHello<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplateArchFallback, AmbiguousArchitectureIsAnError) {
  for (std::string_view arch : {"llama", "", "bert"}) {
    Result<ChatTemplate> t = ChatTemplate::from_gguf_template("", arch);
    ASSERT_FALSE(t.ok()) << arch;
    EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
    EXPECT_NE(t.status().message().find("--chat-template"), std::string::npos);
  }
}

// --- Recognition details and errors. ---

TEST(ChatTemplateRecognize, UnknownTemplateNamesItsStart) {
  const std::string src =
      "{% for m in messages %}### {{ m['role'] }}:\n{{ m['content'] }}\n{% endfor %}"
      "### Assistant:";
  Result<ChatTemplate> t = ChatTemplate::from_gguf_template(src, "llama");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnsupported);
  const std::string& msg = t.status().message();
  // The first 60 characters, newlines shown as \n, then "...".
  EXPECT_NE(msg.find("\"{% for m in messages %}### {{ m['role'] }}:\\n{{ m['content'] ...\""),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("--chat-template NAME"), std::string::npos);
}

TEST(ChatTemplateRecognize, FamilyVariantWeDoNotReproduceIsRejected) {
  // Mistral 7B v0.1-style spacing: "[INST] " + content + " [/INST]".
  const std::string src =
      "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
      "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
      "{{ message['content'] + eos_token }}{% endif %}{% endfor %}";
  Result<ChatTemplate> t = ChatTemplate::from_gguf_template(src, "llama");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("mistral family"), std::string::npos) << t.status().message();
}

TEST(ChatTemplateRecognize, ToolUseTemplateIsRejected) {
  const std::string src =
      "<|im_start|>system\nTools: {% for tool in tools %}{{ tool | tojson }}{% endfor %}"
      "<|im_end|>\n{% for message in messages %}"
      "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}"
      "{% endfor %}";
  Result<ChatTemplate> t = ChatTemplate::from_gguf_template(src, "qwen2");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("tool-use template"), std::string::npos);
}

TEST(ChatTemplateRecognize, ChatMLDefaultSystemPromptWithEscapes) {
  // Default system prompt in a double-quoted literal with escapes; message.role spelling.
  const std::string src =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
      "{{ \"<|im_start|>system\\nYou're \\\"Bot\\\"\\u00e9\\tok<|im_end|>\\n\" }}{% endif %}"
      "{{ \"<|im_start|>\" + message.role + \"\\n\" + message.content + \"<|im_end|>\\n\" }}"
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  Result<ChatTemplate> t = ChatTemplate::from_gguf_template(src, "llama");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->format(), ChatFormat::kChatML);
  EXPECT_EQ(t->default_system_prompt(), "You're \"Bot\"\xC3\xA9\tok");
  EXPECT_FALSE(t->emits_bos());
  const std::vector<ChatMessage> conv = {{"user", "Q"}};
  EXPECT_EQ(
      *t->render(conv, false, "", ""),
      "<|im_start|>system\nYou're \"Bot\"\xC3\xA9\tok<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n");
}

TEST(ChatTemplateRecognize, DetailsOfTheRealTemplates) {
  Json smol;
  ASSERT_TRUE(JsonParser(read_file(golden_dir() / "SmolLM2-135M-Instruct.json")).parse(&smol));
  ChatTemplate s = ChatTemplate::from_gguf_template(smol["template_source"].str, "llama").value();
  EXPECT_EQ(s.default_system_prompt(),
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  EXPECT_FALSE(s.emits_bos());

  const fs::path dir = shared_templates();
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not found (../shared is absent)";
  ChatTemplate l32 = ChatTemplate::from_gguf_template(
                         read_file(dir / "meta-llama-Llama-3.2-3B-Instruct.jinja"), "llama")
                         .value();
  EXPECT_TRUE(l32.emits_bos());
  EXPECT_TRUE(l32.has_date_header());
  EXPECT_EQ(l32.clock_date_format(), "%d %b %Y");
  EXPECT_EQ(l32.default_date(), "26 Jul 2024");
  ChatTemplate l31 = ChatTemplate::from_gguf_template(
                         read_file(dir / "meta-llama-Llama-3.1-8B-Instruct.jinja"), "llama")
                         .value();
  EXPECT_EQ(l31.clock_date_format(), "");
  ChatTemplate qwen =
      ChatTemplate::from_gguf_template(read_file(dir / "Qwen-Qwen2.5-7B-Instruct.jinja"), "qwen2")
          .value();
  EXPECT_EQ(qwen.default_system_prompt(),
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  ChatTemplate g2 =
      ChatTemplate::from_gguf_template(read_file(dir / "google-gemma-2-2b-it.jinja"), "gemma2")
          .value();
  EXPECT_FALSE(g2.folds_system_into_user());
  EXPECT_TRUE(g2.emits_bos());
}

TEST(ChatTemplateRecognize, GemmaSystemSeparatorIsReadFromTheTemplate) {
  Json doc;
  ASSERT_TRUE(JsonParser(read_file(golden_dir() / "google-gemma-3-it.json")).parse(&doc));
  std::string src = doc["template_source"].str;
  const std::string two = "'\\n\\n'";
  size_t replaced = 0;
  for (size_t p = src.find(two); p != std::string::npos; p = src.find(two, p + 1), ++replaced) {
    src.replace(p, two.size(), "'\\n'");
  }
  ASSERT_EQ(replaced, 2u);
  Result<ChatTemplate> t = ChatTemplate::from_gguf_template(src, "gemma3");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const std::vector<ChatMessage> conv = {{"system", "S"}, {"user", "U"}};
  EXPECT_EQ(*t->render(conv, false, "<bos>", ""), "<bos><start_of_turn>user\nS\nU<end_of_turn>\n");
}

TEST(ChatTemplateRecognize, Llama32DateComesFromTheClock) {
  ChatTemplate t = ChatTemplate::from_name("llama3.2").value();
  t.set_today(year_month_day(std::chrono::year(2024), std::chrono::January, std::chrono::day(5)));
  const std::vector<ChatMessage> conv = {{"user", "Hi"}};
  EXPECT_NE(t.render(conv, false, "", "")->find("Today Date: 05 Jan 2024\n\n"), std::string::npos);

  // Unpinned, it is today's local date (as transformers' strftime_now); allow for midnight.
  auto today = [] {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%d %b %Y", &local);
    return std::string(buf);
  };
  const std::string before = today();
  ChatTemplate clock = ChatTemplate::from_name("llama3.2").value();
  const std::string text = clock.render(conv, false, "", "").value();
  const std::string after = today();
  EXPECT_TRUE(text.find("Today Date: " + before + "\n") != std::string::npos ||
              text.find("Today Date: " + after + "\n") != std::string::npos)
      << text;
}

// --- Render errors. ---

TEST(ChatTemplateRender, EmptyConversationIsAnError) {
  Result<std::string> r = ChatTemplate::from_name("chatml")->render({}, true, "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(ChatTemplateRender, UnknownRoleIsAnErrorInEveryFormat) {
  const std::vector<ChatMessage> conv = {{"user", "Hi"}, {"tool", "42"}};
  for (std::string_view name : chat_template_names()) {
    Result<std::string> r = ChatTemplate::from_name(name)->render(conv, true, "<s>", "</s>");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("message 1 has role 'tool'"), std::string::npos)
        << r.status().message();
  }
}

TEST(ChatTemplateRender, AlternationErrorsNameTheTemplateRule) {
  const std::vector<ChatMessage> conv = {{"user", "a"}, {"user", "b"}};
  for (std::string_view name : {"gemma", "gemma2", "mistral"}) {
    Result<std::string> r = ChatTemplate::from_name(name)->render(conv, true, "<s>", "</s>");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("must alternate user/assistant"), std::string::npos);
  }
  // Templates without that rule render it.
  EXPECT_TRUE(ChatTemplate::from_name("chatml")->render(conv, true, "", "").ok());
}

TEST(ChatTemplateRender, DeepSeekDropsEarlierReasoning) {
  const std::vector<ChatMessage> conv = {
      {"user", "Q"}, {"assistant", "<think>a</think>x</think>kept"}, {"user", "R"}};
  EXPECT_EQ(*ChatTemplate::from_name("deepseek-r1")->render(conv, false, "", ""),
            "<｜User｜>Q<｜Assistant｜>kept<｜end▁of▁sentence｜><｜User｜>R");
}

}  // namespace
}  // namespace pocketlm
