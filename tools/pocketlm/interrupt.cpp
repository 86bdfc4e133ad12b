#include "interrupt.h"

#include <signal.h>

#include <atomic>

namespace pocketlm::cli {
namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<plm_session*> g_target{nullptr};
static_assert(std::atomic<bool>::is_always_lock_free &&
                  std::atomic<plm_session*>::is_always_lock_free,
              "a signal handler may only use lock-free atomics");

void on_sigint(int /*signo*/) {
  g_interrupted.store(true);
  if (plm_session* s = g_target.load(); s != nullptr) plm_session_cancel(s);
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: see the header
  sigaction(SIGINT, &sa, nullptr);
}

void set_interrupt_target(plm_session* session) { g_target.store(session); }

bool interrupted() { return g_interrupted.load(); }

void clear_interrupt() { g_interrupted.store(false); }

}  // namespace pocketlm::cli
