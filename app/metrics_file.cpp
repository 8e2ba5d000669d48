// SPDX-License-Identifier: MIT
#include "metrics_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>

namespace mockit::app {
namespace {

// Writes all of `text` to a new file `tmp`, then renames it to `path`. nullopt when done; else
// what failed.
std::optional<std::string> replace_file(const std::string& path, const std::string& tmp,
                                        const std::string& text) {
    // The rename would put a regular file in the place of anything: a device (/dev/full), a FIFO,
    // a symbolic link (/dev/stdout), which is seldom what the path meant, and as root can break
    // the system. Anything but a regular file is left alone.
    struct stat target {};
    if (::lstat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode))
        return "not a regular file (left alone)";
    // A fresh file: what a former run left, or anybody put, at `tmp` is not written through.
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return std::strerror(errno);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : ENOSPC;
            ::close(fd);
            ::unlink(tmp.c_str());
            return std::strerror(saved);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        return std::strerror(saved);
    }
    return std::nullopt;
}

}  // namespace

metrics_file::metrics_file(std::string path, std::chrono::milliseconds interval)
    : path_{std::move(path)}, interval_{interval} {}

void metrics_file::attach(lua_State* L, lua::loop_observer& observer, bool simulated) {
    if (path_.empty()) return;
    state_ = L;
    write();
    observer.on_turn = [this, ping = std::move(observer.on_turn)] {
        if (ping) ping();
        write_if_due();
    };
    if (!simulated && (!observer.period || interval_ < *observer.period))
        observer.period = interval_;
}

void metrics_file::write_if_due() {
    auto now = std::chrono::steady_clock::now();
    if (last_ && now - *last_ < interval_) return;
    write();
}

void metrics_file::write() {
    if (state_ == nullptr) return;
    last_ = std::chrono::steady_clock::now();
    std::optional<std::string> problem;
    try {
        std::optional<std::string> text = lua::metrics_text(state_);
        if (!text) return;
        problem = replace_file(path_, path_ + ".tmp", *text);
    } catch (const std::bad_alloc&) {
        problem = std::strerror(ENOMEM);
    }
    if (!problem) {
        failing_ = false;
        return;
    }
    if (!failing_) {
        spdlog::error("--metrics-file: cannot write {}: {} (the script goes on without it)", path_,
                      *problem);
    }
    failing_ = true;
}

}  // namespace mockit::app
