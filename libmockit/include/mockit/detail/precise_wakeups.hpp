// SPDX-License-Identifier: MIT
// Waking on time. Two things make a timed wake-up late, and a thread that exists to wake on
// time (the engine thread, the thread waiting in the Lua loop) works around both:
// - The kernel may defer it by the thread's timer slack (50 us by default) to batch wake-ups:
//   such a thread asks for the smallest slack, once.
// - A CPU that slept long wakes slowly: it left for a deep idle state, or, on a virtual machine,
//   the hypervisor gave its core away once the halted vCPU had polled for a while (KVM polls
//   for about 200 us by default). On a KVM guest, one-offs of 11-50 ms ran 150-250 us late
//   when slept for in one go, and 60-75 us late when the thread woke 200 us early and slept
//   the rest: such a thread sleeps for a deadline more than split_after away in two steps.
// Both the engine and the Lua binding's loop use it, so it sits with the core's headers, which
// the binding builds against, rather than among the private ones in libmockit/src.
#pragma once

#include <sys/prctl.h>

#include <chrono>

#include "mockit/clock.hpp"

namespace mockit::detail {

// For the calling thread; the caller asks once (a thread_local flag here would give a module
// that is unloaded, as lua5.4 unloads mockit.so, a TLS block in every thread that used it).
inline bool ask_for_precise_wakeups() noexcept {
    return ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
}

inline constexpr duration wake_lead = std::chrono::microseconds{200};
inline constexpr duration split_after = std::chrono::milliseconds{1};

// How long to sleep now for a deadline `left` away: all of it, or, for a long sleep, all but
// wake_lead; the caller then sleeps the rest from a CPU that is awake. Costs one more wake-up
// per sleep longer than split_after: at most one a millisecond, and none while idle between
// deadlines far apart.
inline duration first_sleep(duration left) noexcept {
    return left > split_after ? left - wake_lead : left;
}

}  // namespace mockit::detail
