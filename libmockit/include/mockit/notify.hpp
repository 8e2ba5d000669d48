// The sd_notify protocol, spoken directly (systemd recommends this over linking libsystemd):
// one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET, a path or
// "@name" for an abstract socket.
#pragma once

#include <string_view>

#include "mockit/export.h"

namespace mockit {

// Sends `state` (e.g. "READY=1", "STATUS=syncing"). Returns false, having done nothing, when
// $NOTIFY_SOCKET is unset or unusable, and false when the datagram could not be sent.
MOCKIT_API bool notify(std::string_view state) noexcept;

}  // namespace mockit
