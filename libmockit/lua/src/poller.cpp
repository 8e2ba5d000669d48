// SPDX-License-Identifier: MIT
#include "poller.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <limits>
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
    if (timerfd_ >= 0) ::close(timerfd_);
}

namespace {

// Sets `fd` for the end of time, to be cancelled by the next step of the wall clock.
bool set_for_a_step(int fd) noexcept {
    itimerspec never{};
    never.it_value.tv_sec = std::numeric_limits<time_t>::max() / 2;  // ~ the end of time_t
    return ::timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &never, nullptr) == 0;
}

}  // namespace

void poller::watch_wall_clock() {
    if (timerfd_ >= 0) return;
    int fd = above_stdio(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
    if (fd < 0 || !set_for_a_step(fd)) {
        int error = errno;
        if (fd >= 0) ::close(fd);
        throw std::system_error(error, std::generic_category(), "timerfd (the wall clock's watch)");
    }
    timerfd_ = fd;
}

bool poller::wall_clock_stepped() noexcept {
    if (timerfd_ < 0) return false;
    std::uint64_t count = 0;
    if (::read(timerfd_, &count, sizeof count) >= 0 || errno != ECANCELED) return false;
    set_for_a_step(timerfd_);  // for the next step
    return true;
}

bool poller::wait(std::optional<duration> timeout, int input) noexcept {
    // The eventfd first; then the wall clock's watch, if any (its step is read by
    // wall_clock_stepped(), for the caller to replan); then the input, if any.
    pollfd watched[3] = {{eventfd_.load(), POLLIN, 0}};
    nfds_t count = 1;
    if (timerfd_ >= 0) watched[count++] = pollfd{timerfd_, POLLIN, 0};
    nfds_t input_at = count;
    if (input >= 0) watched[count++] = pollfd{input, POLLIN, 0};
    timespec limit{};
    if (timeout) {
        duration left = std::max(*timeout, duration::zero());
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
        limit =
            timespec{static_cast<time_t>(secs.count()), static_cast<long>((left - secs).count())};
    }
    // EINTR (a signal handler ran) and a timeout end the wait alike: the caller looks again.
    if (::ppoll(watched, count, timeout ? &limit : nullptr, nullptr) <= 0) return false;
    if (watched[0].revents != 0) {
        woken_.store(false);
        std::uint64_t wakes = 0;
        [[maybe_unused]] auto n = ::read(watched[0].fd, &wakes, sizeof wakes);
    }
    // POLLHUP and POLLERR too: the reader then sees its end of input, or its error.
    return input >= 0 && watched[input_at].revents != 0;
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
