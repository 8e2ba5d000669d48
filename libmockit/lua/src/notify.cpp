// SPDX-License-Identifier: MIT
#include "mockit/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace mockit {
namespace {

// Closes the socket on every path out.
struct socket_fd {
    int fd;
    ~socket_fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

bool notify(std::string_view state) noexcept {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr) return false;
    std::size_t length = std::strlen(path);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (length < 2 || length >= sizeof address.sun_path || (path[0] != '/' && path[0] != '@')) {
        return false;
    }
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    socket_fd sock{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (sock.fd < 0) return false;
    auto address_size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    ssize_t sent = ::sendto(sock.fd, state.data(), state.size(), MSG_NOSIGNAL,
                            reinterpret_cast<const sockaddr*>(&address), address_size);
    return sent == static_cast<ssize_t>(state.size());
}

}  // namespace mockit
