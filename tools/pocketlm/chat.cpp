// `pocketlm chat [flags]`: a multi-turn conversation read line by line from stdin.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "generation_flags.h"
#include "interrupt.h"
#include "model_path.h"
#include "pocketlm/pocketlm.h"

namespace pocketlm::cli {
namespace {

constexpr const char* kVerb = "chat";

// The context policy is STOP, not SHIFT: every turn re-renders the whole conversation, and a
// shifted cache no longer matches that text, so shifting would only defer the overflow.
constexpr const char* kChatHelp =
    "Reads one user message per line from stdin and streams each reply to stdout, followed by\n"
    "a newline. The conversation is kept: each turn reuses what the session already computed\n"
    "for the earlier ones. Lines that are exactly one of these are commands:\n"
    "  /clear   forget the conversation (the --system message stays)\n"
    "  /stats   print the statistics of the last reply on stderr\n"
    "  /exit    quit (as does end of input, or /quit)\n"
    "When stdin is not a terminal there is no prompt or banner, only the replies, so a script\n"
    "can drive a conversation through a pipe.\n"
    "\n"
    "Ctrl-C stops the reply being generated and keeps the conversation; Ctrl-C at the prompt\n"
    "quits. When the context fills up, the reply stops there and a message says so; the\n"
    "conversation is not shifted or summarized: /clear starts over.\n"
    "\n";

struct Message {
  std::string role;
  std::string content;
};

struct Reply {
  std::string text;  // exactly as delivered, so the next turn's prompt matches the KV cache
  bool write_failed = false;
};

bool on_token(const char* text, size_t len, int32_t /*token*/, float /*logprob*/, void* user_data) {
  auto* reply = static_cast<Reply*>(user_data);
  reply->text.append(text, len);
  if (len > 0) {
    std::fwrite(text, 1, len, stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      reply->write_failed = true;
      return false;
    }
  }
  return !interrupted();
}

enum class LineResult { kLine, kEof, kInterrupted };

// One line from stdin without its line ending. A Ctrl-C while waiting ends the wait (the handler
// is installed without SA_RESTART).
LineResult read_line(std::string* line) {
  char* buf = nullptr;
  size_t cap = 0;
  errno = 0;
  ssize_t n = ::getline(&buf, &cap, stdin);
  LineResult result = LineResult::kLine;
  if (n < 0) {
    result = interrupted() ? LineResult::kInterrupted : LineResult::kEof;
    std::clearerr(stdin);
  } else {
    line->assign(buf, static_cast<size_t>(n));
    while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  }
  std::free(buf);
  return result;
}

void print_stats(const plm_session* session) {
  std::string line = stats_line(session);
  std::fprintf(stderr, "pocketlm: %s\n", line.empty() ? "no statistics yet" : line.c_str());
}

class Conversation {
 public:
  Conversation(const GenerationFlags& g, plm_session* session, bool interactive)
      : g_(g), session_(session), interactive_(interactive) {
    clear();
  }

  void clear() {
    history_.clear();
    if (!g_.system.empty()) history_.push_back({"system", g_.system});
  }

  // Sends one user turn and streams the reply. Returns -1 to go on, or the exit status after
  // one error line.
  int turn(const std::string& user_text) {
    history_.push_back({"user", user_text});
    std::vector<plm_chat_message> messages;
    messages.reserve(history_.size());
    for (const Message& m : history_) messages.push_back({m.role.c_str(), m.content.c_str()});

    Reply reply;
    plm_stop_reason reason = PLM_STOP_NONE;
    clear_interrupt();
    set_interrupt_target(session_);
    plm_status st = plm_session_chat(session_, g_.chat_template(), messages.data(), messages.size(),
                                     &g_.generate, on_token, &reply, &reason);
    set_interrupt_target(nullptr);
    const bool stopped_by_user = interrupted();
    clear_interrupt();
    if (st == PLM_ERR_CONTEXT_FULL) {
      // The session is left as it was; forget the turn that did not fit.
      history_.pop_back();
      std::fprintf(stderr, "pocketlm chat: context is full (%d tokens); /clear to start over\n",
                   plm_session_n_ctx(session_));
      return -1;
    }
    if (st != PLM_OK) return report_api_error(kVerb, st);
    if (reply.write_failed) return report_error(kVerb, "writing to stdout failed", kExitFailure);
    // A reply cut short stays in the conversation: the session holds its tokens.
    history_.push_back({"assistant", reply.text});
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (reason == PLM_STOP_CONTEXT_FULL) {
      std::fprintf(stderr, "pocketlm chat: context is full (%d tokens); /clear to start over\n",
                   plm_session_n_ctx(session_));
    } else if (stopped_by_user && interactive_) {
      std::fprintf(stderr, "(stopped)\n");
    }
    return -1;
  }

 private:
  const GenerationFlags& g_;
  plm_session* session_;
  bool interactive_;
  std::vector<Message> history_;
};

void print_banner(const plm_model* model, const plm_session* session) {
  plm_model_info info{};
  info.struct_size = sizeof(info);
  const char* name = "model";
  if (plm_model_get_info(model, &info) == PLM_OK && info.name != nullptr && info.name[0] != '\0') {
    name = info.name;
  }
  std::fprintf(stderr,
               "pocketlm chat: %s, context %d tokens. /clear starts over, /stats, /exit (or EOF) "
               "quits; Ctrl-C stops a reply.\n",
               name, plm_session_n_ctx(session));
}

int run_chat(const std::vector<std::string>& args) {
  ArgParser p(kVerb, "pocketlm chat [-m MODEL] [options]");
  add_generation_flags(&p);
  p.epilog(std::string(kChatHelp) + kModelPathHelp);
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;
  GenerationFlags g;
  if (int rc = g.read(kVerb, a); rc >= 0) return rc;

  Engine e;
  if (int rc = open_engine(kVerb, g, &e); rc >= 0) return rc;
  plm_session* session = e.session.get();
  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  install_interrupt_handler();
  if (interactive) print_banner(e.model.get(), session);

  Conversation conversation(g, session, interactive);
  std::string line;
  for (;;) {
    if (interrupted()) return kExitInterrupted;  // Ctrl-C between a reply and the prompt
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    LineResult r = read_line(&line);
    if (r == LineResult::kInterrupted) {
      if (interactive) std::fputc('\n', stdout);
      return kExitInterrupted;
    }
    if (r == LineResult::kEof) {
      if (interactive) std::fputc('\n', stdout);
      break;
    }
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      conversation.clear();
      if (plm_status st = plm_session_reset(session); st != PLM_OK) {
        return report_api_error(kVerb, st);
      }
      continue;
    }
    if (line == "/stats") {
      print_stats(session);
      continue;
    }
    if (int rc = conversation.turn(line); rc >= 0) return rc;
  }
  std::fflush(stdout);
  if (std::ferror(stdout)) return report_error(kVerb, "writing to stdout failed", kExitFailure);
  return kExitOk;
}

const VerbRegistrar kChat({"chat", "Talk with a model, turn by turn", run_chat});

}  // namespace
}  // namespace pocketlm::cli
