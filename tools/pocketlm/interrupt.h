// Ctrl-C for the verbs that generate text: SIGINT stops the running generation instead of
// killing the process, so `run` can still print its statistics and `chat` can keep the
// conversation.
//
// Usage:
//   install_interrupt_handler();
//   set_interrupt_target(session);        // the handler cancels this session's generation
//   ... plm_session_generate(...) ...     // the token callback also checks interrupted()
//   if (interrupted()) return kExitInterrupted;
//
// The handler only touches lock-free atomics and calls plm_session_cancel, which the C API
// documents as callable from any thread at any moment (it sets a flag). It is installed without
// SA_RESTART, so a blocking read of stdin returns with EINTR and `chat` can see the key press at
// its prompt.
#pragma once

#include "pocketlm/pocketlm.h"

namespace pocketlm::cli {

// What a shell reports for a process ended by SIGINT (128 + 2); the verbs exit with it.
inline constexpr int kExitInterrupted = 130;

void install_interrupt_handler();
// The session the handler cancels (nullptr: none).
void set_interrupt_target(plm_session* session);
// Whether SIGINT arrived since the last clear_interrupt().
bool interrupted();
void clear_interrupt();

}  // namespace pocketlm::cli
