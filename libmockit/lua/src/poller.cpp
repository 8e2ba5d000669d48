// SPDX-License-Identifier: MIT
#include "poller.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace mockit::lua::detail {
namespace {

// Moves a descriptor the library opened off 0-2: with stdin, stdout or stderr closed, the
// kernel hands out the lowest free number, and the script's io.read or print would then use
// the loop's descriptor instead of failing with "Bad file descriptor".
int above_stdio(int fd) noexcept {
    if (fd < 0 || fd > STDERR_FILENO) return fd;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    ::close(fd);
    return moved;
}

}  // namespace

void poller::open() {
    if (eventfd_.load() >= 0) return;
    int fd = above_stdio(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    eventfd_.store(fd);
}

poller::~poller() {
    if (int fd = eventfd_.load(); fd >= 0) ::close(fd);
}

bool poller::wait(std::optional<duration> timeout, int input) noexcept {
    pollfd watched[2] = {{eventfd_.load(), POLLIN, 0}, {input, POLLIN, 0}};
    timespec limit{};
    if (timeout) {
        duration left = std::max(*timeout, duration::zero());
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
        limit =
            timespec{static_cast<time_t>(secs.count()), static_cast<long>((left - secs).count())};
    }
    // EINTR (a signal handler ran) and a timeout end the wait alike: the caller looks again.
    nfds_t count = input >= 0 ? 2 : 1;
    if (::ppoll(watched, count, timeout ? &limit : nullptr, nullptr) <= 0) return false;
    if (watched[0].revents != 0) {
        woken_.store(false);
        std::uint64_t wakes = 0;
        [[maybe_unused]] auto n = ::read(watched[0].fd, &wakes, sizeof wakes);
    }
    // POLLHUP and POLLERR too: the reader then sees its end of input, or its error.
    return count == 2 && watched[1].revents != 0;
}

void poller::wake() noexcept {
    std::uint64_t one = 1;
    if (int fd = eventfd_.load(); fd >= 0) {
        [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
        woken_.store(true);
    }
}

// Most loop turns follow no wake at all: on simulated time, where a turn is a jump to the next
// deadline, the read(2) that found nothing was 42% of the CPU time of a 1 s interval through 30
// simulated days (tests/bench/RESULTS.md). A wake from another thread landing between its write
// and the flag leaves the eventfd readable: the next wait returns at once, and reads it.
void poller::forget_wakes() noexcept {
    if (!woken_.exchange(false)) return;
    std::uint64_t count = 0;
    if (int fd = eventfd_.load(); fd >= 0) {
        [[maybe_unused]] auto n = ::read(fd, &count, sizeof count);
    }
}

}  // namespace mockit::lua::detail
