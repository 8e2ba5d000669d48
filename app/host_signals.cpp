// SPDX-License-Identifier: MIT
#include "host_signals.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <ctime>

#include "mockit/lua_module.hpp"
#include "options.hpp"

namespace mockit::app {
namespace {

std::atomic<lua_State*> state{nullptr};
std::atomic<int> first_signal{0};
std::atomic<int> sigints{0};
std::atomic<int> loops_running{0};  // run() may be nested, from a callback
std::atomic<bool> interactive{false};
std::atomic<bool> prompt_waiting{false};
std::atomic<bool> prompt_sigint{false};
// CLOCK_MONOTONIC nanoseconds from which the hook interrupts Lua code, and the signal it
// answers (which names the error); 0 while no interruption is on its way.
std::atomic<std::int64_t> interrupt_from{0};
std::atomic<int> interrupt_for{0};
std::atomic<int> interrupted_for{0};  // the signal whose interruption has fired, or 0
// Signals SIGRTMIN 2 x stop_grace after the first SIGTERM; its handler (on_hard_stop) ends the
// process by SIGTERM's default action. Lua code the hook cannot reach (a coroutine, a blocking C
// call such as os.execute or a resuming mockit.sleep, a script that catches "terminated") must
// not outlive a SIGTERM long. A signal of its own, not SIGTERM: a script may set a
// mockit.signal("SIGTERM") handler after the first one, but cannot handle this one.
timer_t hard_stop{};
bool hard_stop_created = false;
std::atomic<bool> hard_stop_armed{false};

// The hook checks the clock every this many instructions while a SIGTERM's grace runs out.
constexpr int grace_check_count = 1000;
constexpr int hook_mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;
std::atomic<int> hook_count{1};

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Raises "interrupted!" (SIGINT) or "terminated" (SIGTERM) in the running Lua code once its
// time has come, then removes itself (lua.c's lstop).
void stop_lua(lua_State* L, lua_Debug*) {
    std::int64_t from = interrupt_from.load();
    if (from == 0) {  // fired already, on another thread of the state
        lua_sethook(L, nullptr, 0, 0);
        return;
    }
    if (monotonic_ns() < from) return;
    lua_sethook(L, nullptr, 0, 0);
    interrupt_from.store(0);  // done: the next signal sets its own
    interrupted_for.store(interrupt_for.load());
    luaL_error(L, interrupt_for.load() == SIGINT ? "interrupted!" : "terminated");
}

// Interrupts the Lua code running `delay` from now (at its next instruction when zero), for
// signal `signo`.
void interrupt_lua(int signo, std::chrono::nanoseconds delay) noexcept {
    lua_State* L = state.load();
    if (L == nullptr) return;
    std::int64_t from = monotonic_ns() + delay.count();
    std::int64_t set = interrupt_from.load();
    if (set != 0 && set <= from) return;  // an earlier interruption is already on its way
    interrupt_for.store(signo);
    interrupt_from.store(from);
    hook_count = delay.count() == 0 ? 1 : grace_check_count;
    lua_sethook(L, stop_lua, hook_mask, hook_count);
    // Callbacks run as tasks, each on a coroutine of its own: each running one gets the hook too.
    lua::for_each_running_task(
        [](lua_State* task) { lua_sethook(task, stop_lua, hook_mask, hook_count); });
}

// The next `signo` gets the default action: it ends the process (async-signal-safe).
void default_action(int signo) noexcept {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signo, &action, nullptr);
}

void arm_hard_stop() noexcept {
    if (!hard_stop_created || hard_stop_armed.exchange(true)) return;
    itimerspec when{};
    when.it_value.tv_sec = 2 * stop_grace.count();
    timer_settime(hard_stop, 0, &when, nullptr);  // async-signal-safe
}

extern "C" void on_hard_stop(int) {
    end_by_signal(SIGTERM);
}

// SIGINT in interactive mode: see take_sigint_interactively().
void on_interactive_sigint() noexcept {
    if (prompt_waiting.load()) {
        prompt_sigint.store(true);
        lua::wake_loops();
        return;
    }
    default_action(SIGINT);  // as lua.c's laction: a second one ends the process
    interrupt_lua(SIGINT, std::chrono::nanoseconds::zero());
}

extern "C" void on_stop_signal(int signo) {
    if (signo == SIGINT && interactive.load()) {
        on_interactive_sigint();
        return;
    }
    int none = 0;
    first_signal.compare_exchange_strong(none, signo);
    if (signo == SIGINT) {
        bool first = sigints.fetch_add(1) == 0;
        lua::request_stop_from_signal(static_cast<int>(exit_status::interrupted));
        if (first && loops_running.load() > 0 && interrupt_from.load() == 0)
            return;  // graceful: let the callback finish, unless SIGTERM's grace already runs
        default_action(SIGINT);  // as lua.c: the next one ends the process, whatever runs
        interrupt_lua(SIGINT, std::chrono::nanoseconds::zero());
        return;
    }
    lua::request_stop_from_signal(static_cast<int>(exit_status::success));
    default_action(SIGTERM);  // a second SIGTERM, or the hard stop, ends the process
    default_action(SIGINT);   // and so does a SIGINT: an interruption is on its way
    interrupt_lua(SIGTERM, stop_grace);
    arm_hard_stop();
}

}  // namespace

host_signals::host_signals(lua_State* L) {
    state.store(L);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    struct sigaction hard {};
    hard.sa_handler = on_hard_stop;
    sigemptyset(&hard.sa_mask);
    sigaction(SIGRTMIN, &hard, nullptr);
    sigevent event{};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGRTMIN;
    hard_stop_created = timer_create(CLOCK_MONOTONIC, &event, &hard_stop) == 0;
}

host_signals::~host_signals() {
    default_action(SIGINT);
    default_action(SIGTERM);
    state.store(nullptr);
    // Once armed, the hard stop bounds the state's close too: it is left to the process's end.
    if (hard_stop_created && !hard_stop_armed.exchange(true)) timer_delete(hard_stop);
}

void take_sigint_interactively() noexcept {
    interactive.store(true);
}

void set_prompt_waiting(bool waiting) noexcept {
    prompt_waiting.store(waiting);
}

bool take_prompt_sigint() noexcept {
    return prompt_sigint.exchange(false);
}

void rearm_interactive_sigint() noexcept {
    if (first_signal.load() != 0) return;  // SIGTERM: its stop and interruption stand
    if (interrupt_from.exchange(0) != 0) {
        if (lua_State* L = state.load()) lua_sethook(L, nullptr, 0, 0);
    }
    interrupted_for.store(0);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
}

void enter_loop() noexcept {
    loops_running.fetch_add(1);
}

void leave_loop() noexcept {
    loops_running.fetch_sub(1);
}

void end_by_signal(int signo) noexcept {
    default_action(signo);
    ::raise(signo);
}

int stop_signal() noexcept {
    return first_signal.load();
}

int interrupted_for_signal() noexcept {
    return interrupted_for.load();
}

void hold_script_signals() noexcept {
    sigset_t held;
    sigfillset(&held);
    for (int signo :
         {SIGINT, SIGTERM, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT})
        sigdelset(&held, signo);
    pthread_sigmask(SIG_BLOCK, &held, nullptr);
}

}  // namespace mockit::app
