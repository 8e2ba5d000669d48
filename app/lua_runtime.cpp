// SPDX-License-Identifier: MIT
#include "lua_runtime.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "host_signals.hpp"
#include "logging.hpp"
#include "lua_state.hpp"
#include "metrics_file.hpp"
#include "mockit/lua_module.hpp"
#include "repl.hpp"
#include "service_manager.hpp"

namespace mockit::app {
namespace {

constexpr const char* progname = "mockit-run";
static_assert(static_cast<int>(exit_status::stuck) == lua::stuck_exit_code);

// Registry key of the mockit.run the host loaded: the built-in loop is started through it, never
// through the global `mockit`, which a script may overwrite or clear.
const char run_key = 0;
const char process_events_key = 0;  // and its process_events, which the prompt runs

// What pmain hands back through its light userdata.
struct run_context {
    const options* opts;
    int argc;
    char** argv;
    service_manager* service;
    metrics_file* metrics;
    int status = EXIT_SUCCESS;
};

// The exit status a stop raised out of the script's own loop asked for (see mockit.stopping()),
// or -1. Set by report(), which is how every chunk's outcome reaches the host.
int stopped_with = -1;

// "mockit-run: " before each error reported; none at the prompt, as lua.c's doREPL.
const char* error_prefix = "mockit-run: ";

// Prints the error value at `error` with the traceback at `traceback`, as lua.c's report()
// prints what its msghandler made of an error: "mockit-run: message\ntraceback". As there, the
// text an error object's __tostring gives is the whole message, without a traceback, and an
// error __tostring raises (a stuck one interrupted) is printed in its place. A report the mockit
// loop raised carries its callback's traceback already: push_report adds none to it.
void print_error(lua_State* L, int error, int traceback) {
    if (!lua_isstring(L, error) && luaL_getmetafield(L, error, "__tostring") != LUA_TNIL) {
        lua_pushvalue(L, error);
        int status = docall(L, 1, 1);
        if (status != LUA_OK || lua_type(L, -1) == LUA_TSTRING) {
            error = lua_gettop(L);  // its error or its text, printed instead
            if (status != LUA_OK) {
                lua::push_traceback(L, error);
            } else {
                lua_pushliteral(L, "");
            }
            traceback = error + 1;
        }  // else described as any other value, with the traceback
    }
    lua::push_report(L, error, traceback);
    std::fprintf(stderr, "%s%s\n", error_prefix, lua_tostring(L, -1));
    std::fflush(stderr);
}

int dochunk(lua_State* L, int status) {
    if (status == LUA_OK) status = docall(L, 0, 0);
    return report(L, status);
}

int dostring(lua_State* L, const char* chunk, const char* name) {
    return dochunk(L, luaL_loadbuffer(L, chunk, std::strlen(chunk), name));
}

int dofile(lua_State* L, const char* name) {
    return dochunk(L, luaL_loadfile(L, name));
}

// The global `arg`, laid out as lua5.4 lays it out: arg[0] the script, its arguments at
// 1..n, the interpreter and its options at negative indices.
void create_arg_table(lua_State* L, char** argv, int argc, int script) {
    if (script == argc) script = 0;  // no script: everything is an interpreter argument
    lua_createtable(L, argc - (script + 1), script + 1);
    for (int i = 0; i < argc; ++i) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

// LUA_INIT_5_4, else LUA_INIT: "@file" runs a file, anything else is a chunk.
int handle_lua_init(lua_State* L) {
    // lua.c's LUA_INITVARVERSION and LUA_INIT_VAR (defined there, not in the headers).
    const char* name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
    const char* init = std::getenv(name + 1);
    if (init == nullptr) {
        name = "=LUA_INIT";
        init = std::getenv(name + 1);
    }
    if (init == nullptr) return LUA_OK;
    return init[0] == '@' ? dofile(L, init + 1) : dostring(L, init, name);
}

// -l NAME or -l global=module: require the module into a global.
int require_into_global(lua_State* L, const std::string& spec) {
    auto equals = spec.find('=');
    std::string global = spec.substr(0, equals);
    std::string module = equals == std::string::npos ? spec : spec.substr(equals + 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, module.c_str());
    int status = docall(L, 1, 1);
    if (status == LUA_OK) lua_setglobal(L, global.c_str());
    return report(L, status);
}

int run_steps(lua_State* L, const options& opts) {
    for (const preload_step& step : opts.steps) {
        int status = step.what == preload_step::execute
                         ? dostring(L, step.text.c_str(), "=(command line)")
                         : require_into_global(L, step.text);
        if (status != LUA_OK) return status;
    }
    return LUA_OK;
}

// --seed: math.randomseed(N) before any of the script's code runs, as its first line would.
void seed_random(lua_State* L, std::int64_t seed) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_MATHLIBNAME);
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, seed);
    lua_call(L, 1, 0);
    lua_pop(L, 2);
}

// mockit is loaded, and a global (handy for -e); require("luamockit") gives the same table.
// Both names are preloads too, so require finds the built-in module before any mockit.so on
// LUA_CPATH, even after a script cleared package.loaded.mockit. luamockit is only a preload, so
// error messages name functions "mockit.*" until a script asks for the other name.
void preload_mockit(lua_State* L) {
    luaL_requiref(L, "mockit", luaopen_mockit, 1);
    lua_getfield(L, -1, "run");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &run_key);
    lua_getfield(L, -1, "process_events");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &process_events_key);
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_mockit);
    lua_setfield(L, -2, "mockit");
    lua_pushcfunction(L, luaopen_luamockit);
    lua_setfield(L, -2, "luamockit");
    lua_pop(L, 1);
}

// Under systemd, `systemctl reload` sends SIGHUP. A script that handles it reloads; one that does
// not would die of it (its default action), and systemd counts an end by SIGHUP as a clean stop,
// so Restart=on-failure would not bring it back: a reload would stop the service. So a service
// starts with a handler of its own that logs and goes on, which mockit.signal("SIGHUP", fn)
// replaces. Outside systemd SIGHUP is a hangup, and ends the process as under lua5.4.
void survive_reloads(lua_State* L) {
    luaL_loadstring(L,
                    "local mockit = ...\n"
                    "mockit.signal('SIGHUP', function()\n"
                    "    mockit.log.warn('SIGHUP: nothing to reload (the script has no "
                    "mockit.signal(\"SIGHUP\") handler); going on')\n"
                    "end)");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "mockit");
    lua_remove(L, -2);
    lua_call(L, 1, 0);  // in pmain: an error (out of memory) ends the run as any would
}

void install_hooks(lua_State* L, const options& opts, service_manager& service,
                   metrics_file& metrics) {
    lua::set_log_sink(L, log_from_script, binding_level());
    if (opts.keep_going) {
        lua::set_error_sink(L, [](std::string_view message) {
            spdlog::error("{}", message);
            return true;
        });
    }
    lua::loop_observer observer = service.loop_observer();
    observer.on_start = [notify_ready = std::move(observer.on_start)] {
        enter_loop();
        if (notify_ready) notify_ready();
    };
    observer.on_stop = [] { leave_loop(); };
    metrics.attach(L, observer, opts.virtual_start_ms.has_value());
    lua::set_loop_observer(L, std::move(observer));
}

// Loads the script: a file, or standard input for "-" or when none was named.
int load_script(lua_State* L, const options& opts) {
    bool from_stdin = !opts.script || (*opts.script == "-" && !opts.script_after_dashes);
    const char* name = from_stdin ? nullptr : opts.script->c_str();
    return luaL_loadfilex(L, name, nullptr);  // skips a first "#" line: shebang scripts work
}

// lua.c's pushargs: the script's `...` are arg[1..#arg] as they are when it starts, after -e and
// LUA_INIT had their say (`-e "arg[1] = 100"` changes them). Raises when `arg` is no table.
int push_script_args(lua_State* L) {
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    auto n = static_cast<int>(luaL_len(L, -1));
    luaL_checkstack(L, n + 3, "too many arguments to script");  // a shebang script run on $(ls)
    for (int i = 1; i <= n; ++i)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

// Runs the script's main chunk with its arguments as `...`. Returns an exit status.
int run_script(lua_State* L, const options& opts) {
    int status = load_script(L, opts);
    if (status != LUA_OK) {
        report(L, status);
        return status == LUA_ERRFILE ? static_cast<int>(exit_status::usage) : EXIT_FAILURE;
    }
    if (opts.check_only) return EXIT_SUCCESS;
    int nargs = push_script_args(L);
    return report(L, docall(L, nargs, 0)) == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}

// The built-in loop: mockit.run(), unless the script already ran it to completion and armed
// nothing since.
int run_loop(lua_State* L) {
    lua::loop_outcome outcome = lua::last_run(L);
    if (outcome.ran) return outcome.exit_code;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &run_key);
    if (report(L, docall(L, 0, 1)) != LUA_OK) return EXIT_FAILURE;
    auto code = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return code;
}

// As lua5.4: with no script, no -e (-l alone does not count), no -v and no -i, the script is
// stdin; or the prompt, when stdin is a terminal.
bool should_read_stdin(const options& opts) {
    return !opts.script && !opts.show_version && !opts.interactive &&
           std::none_of(opts.steps.begin(), opts.steps.end(),
                        [](auto& step) { return step.what == preload_step::execute; });
}

// Everything that runs Lua, itself run in protected mode (lua.c's pmain).
int pmain(lua_State* L) {
    auto& ctx = *static_cast<run_context*>(lua_touserdata(L, 1));
    const options& opts = *ctx.opts;
    luaL_checkversion(L);
    if (opts.show_version || opts.interactive) print_versions();  // first, as lua.c (-i implies -v)
    if (opts.ignore_environment) {  // lua.c's -E: the package library reads this
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    if (opts.warnings) lua_warning(L, "@on", 0);
    preload_mockit(L);
    lua::run_main_as_task(L);  // the main chunk runs as a task: it may pause
    if (opts.seed) {
        seed_random(L, *opts.seed);
        lua::seed_jitter(L, static_cast<std::uint64_t>(*opts.seed));
    }
    if (opts.virtual_start_ms) {
        lua::use_virtual_time(L, *opts.virtual_start_ms);
        stamp_logs_with(lua::clock_of(L));  // until run_lua's log_stamps ends, before the state
    }
    install_hooks(L, opts, *ctx.service, *ctx.metrics);
    if (ctx.service->enabled()) survive_reloads(L);
    create_arg_table(L, ctx.argv, ctx.argc, opts.script_index);
    // Generational, as lua5.4 runs scripts: timer-driven code makes short-lived garbage at a
    // steady rate, which the incremental mode lets pile up to several times the live heap.
    lua_gc(L, LUA_GCGEN, 0, 0);
    bool prompt = opts.interactive || (should_read_stdin(opts) && isatty(STDIN_FILENO));
    if (prompt && opts.check_only) {  // nothing to check
        std::fprintf(stderr, "usage: %s [options] [script [args...]] (--help for more)\n",
                     progname);
        ctx.status = static_cast<int>(exit_status::usage);
        return 0;
    }
    if (prompt && !opts.interactive) print_versions();  // lua.c's banner; -i printed it already
    if (!opts.check_only && ((!opts.ignore_environment && handle_lua_init(L) != LUA_OK) ||
                             run_steps(L, opts) != LUA_OK)) {
        ctx.status = EXIT_FAILURE;
        return 0;
    }
    if (opts.script || (should_read_stdin(opts) && !prompt)) {
        ctx.status = run_script(L, opts);
        if (ctx.status != EXIT_SUCCESS || opts.check_only) return 0;
    }
    if (prompt) {  // the prompt runs the loop while it waits; the session's end ends the run
        ctx.status = run_repl(L);
        return 0;
    }
    ctx.status = opts.no_loop ? EXIT_SUCCESS : run_loop(L);
    return 0;
}

// The process's exit status: Lua code interrupted by a signal leaves with 128 + its number, even
// when the script caught the interruption (on_error, --keep-going, pcall); a stop raised out of
// the script's own loop with its code; an error after SIGINT or SIGTERM (the Lua code interrupted,
// or failing as it stopped) with 128 + the signal's number, as a shell reports a program a signal
// ended.
int exit_status_of(int status) {
    if (interrupted_for_signal() != 0) return 128 + interrupted_for_signal();  // even if caught
    if (stopped_with >= 0) return stopped_with;
    if (status != EXIT_SUCCESS && stop_signal() != 0) return 128 + stop_signal();
    return status;
}

// lua.c's msghandler for what the host runs: an error object with a __tostring that gives a
// string is that string, the whole message, as it reads at the error (its __tostring may look at
// the stack: Lua's main.lua asks for debug.getinfo(4) there); anything else goes to the
// binding's handler, which notes its traceback. A stop is left as it is: it carries an exit code.
int message_handler(lua_State* L) {
    if (!lua_isstring(L, 1) && !lua::stop_of(L, 1) && luaL_callmeta(L, 1, "__tostring")) {
        if (lua_type(L, -1) == LUA_TSTRING) return 1;
        lua_pop(L, 1);
    }
    return lua::message_handler(L);
}

}  // namespace

int docall(lua_State* L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, message_handler);  // notes the traceback for report()
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

// Unless the error is the stop that ends a script's own loop, whose exit code it keeps (and whose
// message it prints, when stuck in simulated time).
int report(lua_State* L, int status) {
    if (status == LUA_OK) return status;
    int error = lua_gettop(L);
    lua::push_traceback(L, error);  // taken in any case: a note lives no longer than its call
    if (std::optional<lua::raised_stop> stop = lua::stop_of(L, error)) {
        stopped_with = stop->exit_code;
        if (stop->message != nullptr) std::fprintf(stderr, "%s%s\n", error_prefix, stop->message);
    } else {
        print_error(L, error, error + 1);
    }
    lua_settop(L, error - 1);
    return status;
}

void report_without_progname() noexcept {
    error_prefix = "";
}

void push_process_events(lua_State* L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &process_events_key);
}

int run_lua(const options& opts, int argc, char** argv) {
    // Declared before the state, whose loop observer points at them, so they outlive the state.
    service_manager service;
    // The binding finds the state directory where systemd puts it, and so does the script.
    if (!opts.state_dir.empty()) ::setenv("STATE_DIRECTORY", opts.state_dir.c_str(), 1);
    metrics_file metrics{opts.metrics_file, opts.metrics_interval};
    lua_state state;
    // Log lines may be stamped with the state's simulated clock while the state lives.
    struct log_stamps {
        ~log_stamps() { stamp_logs_with(nullptr); }
    } stamps;
    if (state.get() == nullptr) {
        std::fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return EXIT_FAILURE;
    }
    lua_State* L = state.get();
    host_signals signals{L};
    run_context ctx{&opts, argc, argv, &service, &metrics};
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &ctx);
    if (report(L, lua_pcall(L, 1, 0, 0)) != LUA_OK) ctx.status = EXIT_FAILURE;
    metrics.write();  // the last figures, before the state closes
    service.stopping();
    hold_script_signals();  // the state closes on the way out
    return exit_status_of(ctx.status);
}

}  // namespace mockit::app
