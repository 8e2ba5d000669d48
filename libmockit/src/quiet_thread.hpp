// SPDX-License-Identifier: MIT
// Threads the library starts block every signal, so process-directed signals (SIGINT, SIGUSR1,
// ...) always reach a thread of the program instead: there they interrupt a sleep or a wait, as
// the user expects, and a Lua host sees them where its handlers run.
#pragma once

#include <signal.h>

#include <thread>
#include <utility>

namespace mockit::detail {

// Starts `body` on a new jthread with all signals blocked. The mask
// is set before the thread exists, so there is no window in which it could take a signal.
template <class Body>
std::jthread start_quiet_thread(Body&& body) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    struct restore_mask {
        sigset_t mask;
        ~restore_mask() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
    } restore{previous};
    return std::jthread(std::forward<Body>(body));
}

}  // namespace mockit::detail
