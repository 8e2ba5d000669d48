// SPDX-License-Identifier: MIT
// The sd_notify protocol, spoken directly (systemd recommends this over linking libsystemd):
// one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET, a path or
// "@name" for an abstract socket.
//
// Part of the Lua binding rather than of the timer core, which has no use for it: mockit.notify
// needs it under the stock lua5.4 too, and the host, which has the binding built in, sends
// READY=1, the watchdog pings and STOPPING=1 through the same function.
#pragma once

#include <string_view>

namespace mockit {

// Sends `state` (e.g. "READY=1", "STATUS=syncing"). Returns false, having done nothing, when
// $NOTIFY_SOCKET is unset or unusable, and false when the datagram could not be sent.
bool notify(std::string_view state) noexcept;

}  // namespace mockit
