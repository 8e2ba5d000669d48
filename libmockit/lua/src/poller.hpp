// SPDX-License-Identifier: MIT
// The loop's one blocking call: ppoll(2) on an eventfd, until a deadline passes, wake() is
// called (by a signal handler: the signals a script handles, the host's SIGINT and SIGTERM), or
// a signal handler runs on this thread. A prompt (mockit-run -i) watches its input beside it: one
// more entry in ppoll's array.
#pragma once

#include <atomic>
#include <optional>

#include "mockit/clock.hpp"

namespace mockit::lua::detail {

class poller {
  public:
    poller() = default;
    ~poller();
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    // Opens the eventfd, once; throws std::system_error when none can be had. Not with the
    // state: a script run under a tight `ulimit -n` gets its file opened first, and a state that
    // never waits never needs one.
    void open();

    // Blocks for at most `timeout` (nullopt: no limit); returns early on a wake() or a signal,
    // and when `input` (a descriptor, or -1 for none) is readable or hung up, which it returns
    // true for. A wake() that came while nobody waited ends the next wait at once: none is lost.
    // Needs open().
    bool wait(std::optional<duration> timeout, int input = -1) noexcept;

    // Async-signal-safe: one write(2). Nothing to do before open(): nobody waits yet, and the
    // first wait looks at everything a wake could announce.
    void wake() noexcept;

    // Forgets the wake()s so far: for a loop about to look at everything they could announce,
    // so a stale one does not cut its next wait short.
    void forget_wakes() noexcept;

    // Watches the wall clock from now on (once; throws std::system_error when it cannot): a step
    // of the real wall clock (NTP, date -s, a resume from suspend) ends a wait, and
    // wall_clock_stepped() tells of it. A timerfd with TFD_TIMER_CANCEL_ON_SET, set for the end
    // of time: the kernel cancels it, and wakes its reader, at every step.
    void watch_wall_clock();
    [[nodiscard]] bool watching_wall_clock() const noexcept { return timerfd_ >= 0; }
    // Whether the wall clock stepped since the last call (a read(2) when watching, else false).
    bool wall_clock_stepped() noexcept;

  private:
    std::atomic<int> eventfd_{-1};    // read by signal handlers
    std::atomic<bool> woken_{false};  // written since the last read
    int timerfd_ = -1;                // the wall clock's watch, or -1
};

}  // namespace mockit::lua::detail
