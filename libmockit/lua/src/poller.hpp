// The loop's one blocking call: ppoll(2) on an eventfd, until a deadline passes, wake() is
// called (by a signal handler: the signals a script handles, the host's SIGINT and SIGTERM), or
// a signal handler runs on this thread. Watching more descriptors (stdin for a prompt, sockets)
// is a matter of more entries in ppoll's array.
#pragma once

#include <optional>

#include "mockit/clock.hpp"

namespace mockit::lua::detail {

class poller {
  public:
    poller();  // throws std::system_error when no eventfd can be had
    ~poller();
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    // Blocks for at most `timeout` (nullopt: no limit); returns early on a wake() or a signal.
    // A wake() that came while nobody waited ends the next wait at once: none is lost.
    void wait(std::optional<duration> timeout) noexcept;

    // Async-signal-safe: one write(2).
    void wake() noexcept;

    // Forgets the wake()s so far: for a loop about to look at everything they could announce,
    // so a stale one does not cut its next wait short.
    void forget_wakes() noexcept;

  private:
    int eventfd_;
};

}  // namespace mockit::lua::detail
