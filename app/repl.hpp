// SPDX-License-Identifier: MIT
// Interactive mode (mockit-run -i, or no script on a terminal): lua.c's read-eval-print loop, with
// the mockit loop running while the prompt waits, as Node's REPL runs its timers. The prompt is
// _PROMPT (default "> "), and _PROMPT2 (">> ") while a statement is incomplete; "=expr" and an
// expression alone print their values; each line runs as lua.c runs it (docall, errors reported
// without the "mockit-run:" prefix). Callbacks that come due while a line is typed run, their
// output above the prompt, which is then drawn again with the line as it was.
//
// On a terminal, lines are edited with libedit (line_editor.hpp); otherwise they are read as
// lua.c reads them without readline, the prompt written to standard output.
#pragma once

#include <lua.hpp>

namespace mockit::app {

// Runs the prompt until the end of its input (^D), and returns the exit status: 0, or the code
// of a stop (mockit.stop(n) from a callback or a line, SIGTERM's 0). Call it in protected mode.
// A callback's error is reported as a line's is, and the session goes on.
int run_repl(lua_State* L);

}  // namespace mockit::app
