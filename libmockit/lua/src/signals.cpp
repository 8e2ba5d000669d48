// SPDX-License-Identifier: MIT
#include "signals.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace mockit::lua::detail {
namespace {

struct signal_slot {
    std::atomic<std::uint32_t> arrived{0};  // deliveries counted for Lua handlers
    std::atomic<int> watchers{0};           // Lua states with a handler for it
    bool installed = false;                 // our handler is in place (under install_mutex)
    struct sigaction previous {};
};

signal_slot slots[NSIG];
constexpr std::size_t max_pollers = 64;
std::atomic<poller*> pollers[max_pollers];
std::atomic<int> requested_stop{-1};
// Every counted arrival, of any signal: lets next_arrival() skip its scan of all signals on
// each callback when nothing arrived since the last scan (without it, a drain of 100,000
// callbacks took 13.9% more instructions; tests/bench/RESULTS.md).
std::atomic<std::uint64_t> arrivals_total{0};
std::mutex install_mutex;

struct named_signal {
    const char* name;
    int number;
};
constexpr named_signal catchable[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},   {"SIGUSR1", SIGUSR1},
    {"SIGUSR2", SIGUSR2},     {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},   {"SIGTERM", SIGTERM},
    {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT}, {"SIGTSTP", SIGTSTP},   {"SIGTTIN", SIGTTIN},
    {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},   {"SIGXCPU", SIGXCPU},   {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH}, {"SIGIO", SIGIO},
    {"SIGPWR", SIGPWR},
};

void wake_all() noexcept {
    for (auto& p : pollers) {
        if (poller* wakeups = p.load()) wakeups->wake();
    }
}

extern "C" void on_signal(int signo) {
    int saved_errno = errno;
    signal_slot& slot = slots[signo];
    if (slot.watchers.load() > 0) {
        slot.arrived.fetch_add(1);
        arrivals_total.fetch_add(1);
    }
    wake_all();
    errno = saved_errno;
}

// Needs install_mutex.
void install(int signo) {
    signal_slot& slot = slots[signo];
    if (slot.installed) return;
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // the script's own blocking reads are not disturbed
    if (sigaction(signo, &action, &slot.previous) != 0) {
        throw std::runtime_error(std::string("sigaction: ") + std::strerror(errno));
    }
    slot.installed = true;
}

// Needs install_mutex. Puts back what was there before, once nobody needs ours.
void restore_if_unused(int signo) noexcept {
    signal_slot& slot = slots[signo];
    if (!slot.installed || slot.watchers.load() > 0) return;
    sigaction(signo, &slot.previous, nullptr);
    slot.installed = false;
}

}  // namespace

namespace {

// Real signals a script may not handle: uncatchable ones, and faults (SIGSEGV, ...), whose
// handler could only run long after the faulting instruction, as a queued event.
bool refused(const char* name) {
    for (const char* r : {"SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP",
                          "SIGABRT", "SIGSYS"}) {
        if (std::strcmp(name, r) == 0) return true;
    }
    return false;
}

}  // namespace

int check_signal(lua_State* L, int arg) {
    const char* name = luaL_checkstring(L, arg);
    int signo = signal_number(name);
    if (signo == 0) {
        luaL_argerror(L, arg,
                      lua_pushfstring(
                          L, refused(name) ? "%s cannot be handled" : "unknown signal '%s'", name));
    }
    return signo;
}

int signal_number(const char* name) noexcept {
    for (const auto& s : catchable) {
        if (std::strcmp(s.name, name) == 0) return s.number;
    }
    return 0;
}

const char* signal_name(int signo) noexcept {
    for (const auto& s : catchable) {
        if (s.number == signo) return s.name;
    }
    return nullptr;
}

bool is_catchable(int signo) noexcept {
    return signal_name(signo) != nullptr;
}

signal_inbox::signal_inbox(poller& wakeups) : wakeups_{wakeups} {
    for (auto& q : pollers) {
        poller* expected = nullptr;
        if (q.compare_exchange_strong(expected, &wakeups_)) return;
    }
    throw std::runtime_error("too many Lua states with mockit open (at most 64)");
}

signal_inbox::~signal_inbox() {
    for (int signo = 1; signo < NSIG; ++signo)
        unwatch(signo);
    for (auto& q : pollers) {
        poller* expected = &wakeups_;
        q.compare_exchange_strong(expected, nullptr);
    }
}

void signal_inbox::watch(int signo) {
    if (watched_[signo]) return;
    std::lock_guard lock(install_mutex);
    install(signo);
    seen_[signo] = slots[signo].arrived.load();  // arrivals before now are not ours
    slots[signo].watchers.fetch_add(1);
    watched_[signo] = true;
}

void signal_inbox::unwatch(int signo) noexcept {
    if (!watched_[signo]) return;
    std::lock_guard lock(install_mutex);
    watched_[signo] = false;
    slots[signo].watchers.fetch_sub(1);
    restore_if_unused(signo);
}

std::size_t signal_inbox::pending() const noexcept {
    if (arrivals_total.load() == scanned_total_) return 0;  // next_arrival's shortcut
    std::size_t n = 0;
    for (int signo = 1; signo < NSIG; ++signo) {
        if (watched_[signo]) n += slots[signo].arrived.load() - seen_[signo];
    }
    return n;
}

int signal_inbox::next_arrival() noexcept {
    // Read before the scan: an arrival during the scan leaves the total ahead, so the next
    // call scans again.
    std::uint64_t total = arrivals_total.load();
    if (total == scanned_total_) return 0;
    for (int signo = 1; signo < NSIG; ++signo) {
        if (watched_[signo] && seen_[signo] != slots[signo].arrived.load()) {
            ++seen_[signo];
            return signo;
        }
    }
    scanned_total_ = total;
    return 0;
}

void wake_all_loops() noexcept {
    wake_all();
}

int requested_stop_code() noexcept {
    return requested_stop.load();
}

void request_stop(int exit_code) noexcept {
    int none = -1;  // the first stop's code stands: SIGINT after SIGTERM still exits 0
    requested_stop.compare_exchange_strong(none, exit_code < 0 ? 0 : exit_code);
    wake_all();
}

}  // namespace mockit::lua::detail
