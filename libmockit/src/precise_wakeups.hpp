// The kernel may defer a timed wake-up by the thread's timer slack (50 us by default) to batch
// wake-ups. A thread that exists to wake on time (the engine thread, the thread waiting in the
// Lua loop) asks for the smallest slack, once.
#pragma once

#include <sys/prctl.h>

namespace mockit::detail {

inline void ask_for_precise_wakeups() noexcept {
    thread_local bool asked = false;
    if (!asked) asked = ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
}

}  // namespace mockit::detail
