// The kernel may defer a timed wake-up by the thread's timer slack (50 us by default) to batch
// wake-ups. A thread that exists to wake on time (the engine thread, the thread waiting in the
// Lua loop) asks for the smallest slack, once.
#pragma once

#include <sys/prctl.h>

namespace mockit::detail {

// For the calling thread; the caller asks once (a thread_local flag here would give a module
// that is unloaded, as lua5.4 unloads mockit.so, a TLS block in every thread that used it).
inline bool ask_for_precise_wakeups() noexcept {
    return ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
}

}  // namespace mockit::detail
