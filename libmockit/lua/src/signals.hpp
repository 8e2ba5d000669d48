// SPDX-License-Identifier: MIT
// Signals as queued events. The C handler only counts arrivals and wakes the loops
// (atomics and write(2): async-signal-safe); each Lua state picks the arrivals up in
// process_events() and runs its mockit.signal handlers there, never asynchronously.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <lua.hpp>

#include "poller.hpp"

namespace mockit::lua::detail {

// The signals a script may handle: everything catchable that is not a synchronous fault.
int signal_number(const char* name) noexcept;  // 0 when unknown
const char* signal_name(int signo) noexcept;   // "SIGHUP"; nullptr when unknown
bool is_catchable(int signo) noexcept;
// Argument `arg` as the name of a signal a script may handle: its number. Raises "bad argument"
// for an unknown name and for one that cannot be handled (SIGKILL, faults).
int check_signal(lua_State* L, int arg);

// One Lua state's view of the process's signals.
class signal_inbox {
  public:
    explicit signal_inbox(poller& wakeups);  // the loop to wake when a signal arrives
    ~signal_inbox();                         // unwatches everything
    signal_inbox(const signal_inbox&) = delete;
    signal_inbox& operator=(const signal_inbox&) = delete;

    // Starts (stops) counting `signo` for this state; installs (restores) the C handler.
    void watch(int signo);
    void unwatch(int signo) noexcept;

    // Arrivals of watched signals not yet taken.
    [[nodiscard]] std::size_t pending() const noexcept;
    // Takes one pending arrival: its signal number, or 0 when none is pending.
    int next_arrival() noexcept;

  private:
    poller& wakeups_;
    std::uint32_t seen_[NSIG] = {};
    bool watched_[NSIG] = {};
    std::uint64_t scanned_total_ = 0;  // arrivals_total when a scan last found nothing
};

// A process-wide stop, asked for by the host from a signal handler (SIGTERM, SIGINT with no Lua
// handler). It stays asked for: a process told to terminate never starts its loop again.
// Async-signal-safe.
void request_stop(int exit_code) noexcept;

// Wakes every state's poller (async-signal-safe).
void wake_all_loops() noexcept;
// The code of the stop asked for, or -1 when none was.
int requested_stop_code() noexcept;

}  // namespace mockit::lua::detail
