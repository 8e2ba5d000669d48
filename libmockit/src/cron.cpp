// SPDX-License-Identifier: MIT
#include "mockit/cron.hpp"

namespace mockit {

struct cron_schedule::compiled {
    std::string zone;
};

cron_schedule::cron_schedule(std::string_view, std::string_view zone)
    : compiled_(std::make_shared<compiled>(compiled{std::string(zone)})) {}

std::optional<std::chrono::sys_seconds> cron_schedule::next_after(
    std::chrono::sys_time<std::chrono::milliseconds>) const {
    return std::nullopt;
}

std::string cron_schedule::format(std::chrono::sys_seconds) const {
    return {};
}

const std::string& cron_schedule::zone_name() const noexcept {
    return compiled_->zone;
}

}  // namespace mockit
