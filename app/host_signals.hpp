// SPDX-License-Identifier: MIT
// The host's answer to SIGINT and SIGTERM when the script set no mockit.signal handler. Both ask
// every loop to stop gracefully (the running callback finishes, nothing else starts), and both
// interrupt a blocking system call (no SA_RESTART, as lua.c): a script stuck in io.read() gets
// its error back at once instead of waiting on.
// - SIGINT, as lua5.4: outside the loop, or the second one, interrupts the running Lua code at
//   its next instruction with "interrupted!", and the next SIGINT has the default action (it
//   ends the process, which reaches code no hook can). Exit status 130.
// - SIGTERM, as systemd expects: a graceful stop exits 0. Lua code still running stop_grace
//   after it (a stuck callback, a busy main chunk, a loop of the script's own that ignores
//   mockit.stopping()) is interrupted with "terminated", and the exit status is 143. A second
//   SIGTERM has the default action, and so does the hard stop: a SIGTERM the process sends
//   itself 2 x stop_grace after the first, for what the hook cannot reach (a coroutine, a
//   blocking C call, a script that catches "terminated"), the state's close included.
// - SIGINT in interactive mode (-i), as a prompt takes it: at the prompt it drops the line being
//   typed; while Lua code runs (a line typed, a callback) it interrupts that code as lua.c does
//   (the next SIGINT, until the prompt is back, ends the process). It stops no loop and sets no
//   exit status: the session goes on.
// Only atomics, clock_gettime and lua_sethook are touched from the handler; never the Lua stack.
// The interrupting hook is set on the main thread: code running in a coroutine is interrupted
// once it returns to it (lua.c has the same limit), or ended by the default action.
#pragma once

#include <chrono>
#include <lua.hpp>

namespace mockit::app {

inline constexpr std::chrono::seconds stop_grace{1};

// Installs the handlers for the state L; the destructor puts back the default actions (a signal
// while the state closes ends the process, as under lua.c) before L goes away.
class host_signals {
  public:
    explicit host_signals(lua_State* L);
    ~host_signals();
    host_signals(const host_signals&) = delete;
    host_signals& operator=(const host_signals&) = delete;
};

// Blocks, until the process exits, the signals a script may have handled with mockit.signal
// (all but SIGINT, SIGTERM, SIGQUIT and the synchronous faults). Called once the script is done:
// as the state closes, the script's handlers give way to the default actions, and a SIGUSR1 or
// SIGHUP arriving then would end the process by that signal instead of with the script's exit
// status. Blocked, it stays pending and goes with the process.
void hold_script_signals() noexcept;

// Interactive mode: SIGINT as a prompt takes it (above), from now until the process ends.
void take_sigint_interactively() noexcept;
// Whether the prompt waits for a line now (SIGINT then drops the line, and wakes the loop).
void set_prompt_waiting(bool waiting) noexcept;
// Whether a SIGINT came at the prompt since the last call (and forgets it).
bool take_prompt_sigint() noexcept;
// After a line or a callback ran at the prompt: forgets a SIGINT's interruption (it was reported
// as its error, or came too late to fire) and takes SIGINT again, as lua.c's docall does.
void rearm_interactive_sigint() noexcept;

// Called as each run() starts and ends; runs may nest.
void enter_loop() noexcept;
void leave_loop() noexcept;
// Ends the process by `signo`'s default action, as a program without a handler for it would end
// (async-signal-safe).
void end_by_signal(int signo) noexcept;
// The signal that asked for the stop (SIGINT or SIGTERM), or 0.
int stop_signal() noexcept;
// The signal whose interruption ("interrupted!", "terminated") was raised in Lua code, or 0.
int interrupted_for_signal() noexcept;

}  // namespace mockit::app
