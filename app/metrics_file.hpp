// SPDX-License-Identifier: MIT
// mockit-run --metrics-file PATH [--metrics-interval S]: the state's metrics (mockit.metrics()),
// written as OpenMetrics text for Prometheus' node_exporter textfile collector. Each write goes to
// PATH.tmp, then is renamed over PATH, so a reader never sees half a file (the collector reads only
// *.prom files, so the temporary one is never read). Written from the loop's turns when the
// interval has passed, and once more as the host exits.
//
// A file that cannot be written never stops the script: the problem is logged at startup, and a
// later failure (a full disk) is logged once, until a write succeeds again.
#pragma once

#include <chrono>
#include <functional>
#include <lua.hpp>
#include <optional>
#include <string>

#include "mockit/lua_module.hpp"

namespace mockit::app {

class metrics_file {
  public:
    // Nothing to write when `path` is empty.
    metrics_file(std::string path, std::chrono::milliseconds interval);

    // Tries a first write of `L`'s metrics (so a bad path is reported at startup), and adds
    // the periodic writes to `observer`: on_turn, and a period so an idle loop writes too.
    // The interval is real time, even on simulated time, where no period is set (waking up would
    // make simulated time pass): there the turns write.
    void attach(lua_State* L, lua::loop_observer& observer, bool simulated);

    // Writes now (as the host exits).
    void write();

  private:
    bool write_once();
    void write_if_due();

    std::string path_;
    std::chrono::milliseconds interval_;
    lua_State* state_ = nullptr;
    std::optional<std::chrono::steady_clock::time_point> last_;
    bool failing_ = false;
};

}  // namespace mockit::app
