#include "metrics_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

namespace mockit::app {
namespace {

// Writes all of `text` to a new file `tmp`, then renames it to `path`; errno tells what failed.
bool replace_file(const std::string& path, const std::string& tmp, const std::string& text) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int saved = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            errno = saved == 0 ? ENOSPC : saved;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        return false;
    }
    return true;
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
    bool written = false;
    try {
        std::optional<std::string> text = lua::metrics_text(state_);
        if (!text) return;
        written = replace_file(path_, path_ + ".tmp", *text);
    } catch (const std::bad_alloc&) {
        errno = ENOMEM;
    }
    if (written) {
        failing_ = false;
        return;
    }
    if (!failing_) {
        spdlog::error("--metrics-file: cannot write {}: {} (the script goes on without it)", path_,
                      std::strerror(errno));
    }
    failing_ = true;
}

}  // namespace mockit::app
