// SPDX-License-Identifier: MIT
// Plays systemd's side of sd_notify for tests/app/test_systemd.sh: binds a datagram socket
// (a path, or "@name" for the abstract namespace), then prints every line of every datagram
// it receives as "<ms since start> <line>", until STOPPING=1 arrives or the time is up.
// It writes "<socket>.bound" once it listens, so the test starts mockit-run only then.
//
//   mockit_notify_listener SOCKET SECONDS
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace {

using clock_type = std::chrono::steady_clock;

int fail(const char* what) {
    std::fprintf(stderr, "notify_listener: %s: %s\n", what, std::strerror(errno));
    return 2;
}

// Prints each line of one datagram; returns true when it said STOPPING=1.
bool print_lines(std::string_view datagram, long long ms) {
    bool stopping = false;
    while (!datagram.empty()) {
        std::size_t end = datagram.find('\n');
        std::string_view line = datagram.substr(0, end);
        std::printf("%lld %.*s\n", ms, static_cast<int>(line.size()), line.data());
        stopping = stopping || line == "STOPPING=1";
        datagram.remove_prefix(end == std::string_view::npos ? datagram.size() : end + 1);
    }
    std::fflush(stdout);
    return stopping;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SOCKET SECONDS\n", argv[0]);
        return 2;
    }
    std::string path = argv[1];
    auto deadline = clock_type::now() + std::chrono::seconds{std::atoi(argv[2])};

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() < 2 || path.size() >= sizeof address.sun_path) return fail("socket name");
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path[0] == '@') address.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket");
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), size) != 0) return fail("bind");
    std::string marker = (path[0] == '@' ? path.substr(1) : path) + ".bound";
    std::ofstream{marker} << "bound\n";

    auto start = clock_type::now();
    char buffer[4096];
    for (;;) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) break;
        pollfd pfd{fd, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) return fail("poll");
        if (ready <= 0) continue;
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) return fail("recv");
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
        if (print_lines({buffer, static_cast<std::size_t>(n)}, ms.count())) break;
    }
    ::close(fd);
    if (path[0] != '@') ::unlink(path.c_str());
    return 0;
}
