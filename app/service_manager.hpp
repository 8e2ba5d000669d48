// SPDX-License-Identifier: MIT
// Talking to systemd as a Type=notify service (sd_notify(3), sd_watchdog_enabled(3)):
// READY=1 when the loop starts, WATCHDOG=1 from the loop itself, STOPPING=1 on the way out.
// The pings come from the loop, not from a thread of their own, so a callback stuck for
// longer than WatchdogSec= stops them and systemd restarts the service.
// Without $NOTIFY_SOCKET every call here does nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>

#include "mockit/lua_module.hpp"

namespace mockit::app {

// How often the watchdog wants a ping, from $WATCHDOG_USEC and $WATCHDOG_PID. Empty when the
// watchdog is off, meant for another process (a parent that handed its environment down), or
// the values are not numbers.
std::optional<std::chrono::microseconds> watchdog_timeout(const char* usec, const char* pid,
                                                          pid_t self);

class service_manager {
  public:
    // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID.
    service_manager();

    // The hooks that make the loop send READY=1 and the watchdog pings.
    lua::loop_observer loop_observer();
    // STOPPING=1, once, when the host is about to exit.
    void stopping();
    // Whether the process runs as a service ($NOTIFY_SOCKET is set).
    [[nodiscard]] bool enabled() const { return enabled_; }

  private:
    using clock = std::chrono::steady_clock;
    void ready();
    void ping_if_due();

    bool enabled_ = false;
    bool ready_sent_ = false;
    bool stopping_sent_ = false;
    std::optional<std::chrono::microseconds> ping_every_;
    clock::time_point last_ping_{};
};

}  // namespace mockit::app
