// SPDX-License-Identifier: MIT
#include "service_manager.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mockit/notify.hpp"

namespace mockit::app {
namespace {

// A whole, positive decimal number, or nothing (no sign, no spaces, no trailing text).
std::optional<std::uint64_t> parse_positive(const char* text) {
    if (text == nullptr) return std::nullopt;
    std::uint64_t value = 0;
    const char* end = text + std::strlen(text);
    auto [rest, error] = std::from_chars(text, end, value);
    if (error != std::errc{} || rest != end || rest == text || value == 0) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::chrono::microseconds> watchdog_timeout(const char* usec, const char* pid,
                                                          pid_t self) {
    auto timeout = parse_positive(usec);
    if (!timeout) return std::nullopt;
    if (pid != nullptr) {
        auto owner = parse_positive(pid);
        if (!owner || *owner != static_cast<std::uint64_t>(self)) return std::nullopt;
    }
    // Durations beyond what a microseconds count holds would overflow clock arithmetic; a
    // watchdog that far away is as good as none.
    if (*timeout > static_cast<std::uint64_t>(std::chrono::microseconds::max().count() / 2)) {
        return std::nullopt;
    }
    return std::chrono::microseconds{static_cast<std::int64_t>(*timeout)};
}

service_manager::service_manager() {
    enabled_ = std::getenv("NOTIFY_SOCKET") != nullptr;
    if (!enabled_) return;
    auto timeout =
        watchdog_timeout(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
    if (timeout) ping_every_ = *timeout / 2;  // sd_watchdog_enabled(3) advises half
}

lua::loop_observer service_manager::loop_observer() {
    lua::loop_observer observer;
    if (!enabled_) return observer;
    observer.on_start = [this] { ready(); };
    if (ping_every_) {
        observer.on_turn = [this] { ping_if_due(); };
        // The loop looks in at least twice per ping interval, so an idle loop pings on time
        // and a busy one at its first turn past the due time.
        auto half = std::chrono::duration_cast<std::chrono::milliseconds>(*ping_every_ / 2);
        observer.period = std::max(half, std::chrono::milliseconds{1});
    }
    return observer;
}

void service_manager::ready() {
    // A script may run mockit.run() more than once; systemd wants READY=1 only once.
    if (!ready_sent_) ready_sent_ = notify("READY=1");
    if (ping_every_) {
        notify("WATCHDOG=1");
        last_ping_ = clock::now();
    }
}

void service_manager::ping_if_due() {
    clock::time_point now = clock::now();
    if (now - last_ping_ < *ping_every_) return;
    notify("WATCHDOG=1");
    last_ping_ = now;
}

void service_manager::stopping() {
    if (!enabled_ || stopping_sent_) return;
    stopping_sent_ = true;
    notify("STOPPING=1");
}

}  // namespace mockit::app
