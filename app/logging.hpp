// SPDX-License-Identifier: MIT
// The host's logging: one spdlog logger on stderr for mockit.log.* and mockit-run's own
// messages. Under systemd, stderr is the journal: lines then carry a "<N>" syslog priority
// and no timestamp (the journal adds its own).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "mockit/lua_module.hpp"
#include "options.hpp"

namespace mockit::app {

// True when stderr is the journal stream systemd gave us ($JOURNAL_STREAM = "dev:inode").
bool stderr_is_journal();

// Sets up the default logger. `level` is a name from --log-level, or empty for
// $MOCKIT_LOG_LEVEL or info. Returns false (and logs nothing) for an unknown level name.
bool setup_logging(log_format format, const std::string& level);

// Log lines are stamped with `clock`'s wall time, the simulated one under --virtual-time, so that
// a run's output repeats byte for byte; nullptr returns to the system's. The clock must outlive
// its use.
void stamp_logs_with(const clock_source* clock);

// The level in the binding's terms, for mockit.log.* filtering.
lua::log_level binding_level();
void log_from_script(lua::log_level level, std::string_view line);

}  // namespace mockit::app
