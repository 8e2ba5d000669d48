// libFuzzer harness for the mockit Lua API.
//
// Each input is read as a sequence of at most max_ops operations on a fresh Lua state with the
// module open: arming one-offs and intervals of 0..5 ms, destroy (and __close), reset, ref and
// unref, wait with short timeouts, process_events with and without max, run, signal handlers
// and raised signals, on_error, stop, dropped handles and garbage collection, and calls with
// bad arguments of every type. Callbacks are C functions that do what the input chose when
// their timer was armed: raise an error (a string or a table), destroy or reset a timer, arm a
// new one, drain the queue again from inside the callback, stop the loop, sleep, or unref.
//
// The harness keeps a model of what it asked for and, after every step, checks what it can
// observe against it. A violation prints what went wrong and aborts, which libFuzzer reports.
// - A callback runs only for a live timer: never after destroy, a one-off once per arming, an
//   interval at most once per expiry (its k-th call needs k intervals since arming), never early.
// - stats().timers and .referenced, t:active(), t:kind() and t:interval() match the model.
// - pending() never exceeds the expiries that can exist by now, never drops while nothing
//   consumes, and inqueue() is non-zero whenever pending() is.
// - process_events(max) runs at most max callbacks and returns how many ran; nothing starts after
//   mockit.stop() in a drain that began without one; run() returns the stop code.
// - Once a stop is asked for, stopping() says so with its code, the first wait() returns 0 and
//   the next raises the stop (a "mockit.stop" error with that code), until run() takes it.
// - Every error a callback raises reaches exactly one place: on_error, or the caller of
//   process_events/run.
// - A signal handler runs at most once per arrival, and a full drain runs every one owed.
// - A one-off that is due fires (checked at the end of the input: nothing is lost).
// - A bad argument raises "bad argument #n" and changes nothing; nothing crashes.
//
// The module reads the system clock (no clock can be injected through the Lua API), so delays
// are real and tiny, and a budget caps how long one input may block.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mockit/lua_module.hpp"

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int max_ops = 200;
constexpr int slot_count = 8;
constexpr int max_delay_ms = 5;
constexpr int max_depth = 3;                          // nested drains from callbacks
constexpr auto block_budget = milliseconds{15};       // waits and sleeps of one input
constexpr auto run_time_budget = milliseconds{20};    // one run() call...
constexpr std::int64_t run_callback_budget = 64;      // ...before a callback stops it
constexpr auto lost_limit = std::chrono::seconds{2};  // a due one-off fires within this
constexpr std::int64_t max_delay = std::int64_t{1} << 40;
constexpr lua_Integer forced_stop_code = 77;
constexpr std::int64_t no_max = std::numeric_limits<std::int64_t>::max();

// MOCKIT_FUZZ_TRACE=1 prints every step, to read what a crashing input does.
bool tracing = false;

__attribute__((format(printf, 1, 2))) void trace(const char* format, ...) {
    if (!tracing) return;
    std::va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
}

[[noreturn]] __attribute__((format(printf, 1, 2))) void violation(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::fputs("mockit fuzz: invariant violated: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
    std::abort();
}

// What a callback does after its bookkeeping, chosen when its timer is armed.
enum class action : std::uint8_t {
    none,
    raise_string,
    raise_table,
    destroy_self,
    destroy_slot,
    reset_self,
    reset_slot,
    arm_into_slot,
    nested_drain,
    stop,
    sleep,
    unref_self,
    wait_zero,
    last = wait_zero,
};

struct timer_model {
    bool repeats = false;
    std::int64_t delay_ms = 0;    // as t:interval() reports it (an interval of 0 runs every 1 ms)
    steady::time_point armed_at;  // read just before the arming call: no later than the engine's
    std::int64_t fires = 0;       // calls since the last arming
    bool live = false;            // armed, or an expiry awaits dispatch
    bool destroyed = false;
    bool referenced = true;
    int slot = -1;           // where the handle is kept; -1 once the script dropped it
    int extra = 0;           // extra string arguments after the serial
    bool via_table = false;  // the callback is a callable table
    action act = action::none;
    int target = 0;  // a slot, for destroy_slot, reset_slot and arm_into_slot
    int param = 0;   // a delay, an exit code, a max...
};

// One process_events() or run() in progress.
struct drain_frame {
    bool stopped_before;  // a stop was pending when it began: that stop does not end it
    bool stop_seen;       // mockit.stop() was called since it began
    std::int64_t max;
    std::int64_t ran = 0;
    bool is_run = false;
};

struct signal_model {
    int signo;
    const char* name;
    bool watched = false;
    std::int64_t owed = 0;  // arrivals while watched that no handler has run for yet
};

enum class error_mode : std::uint8_t { propagate, absorb, raise };

// Values of every type, for arguments that must be refused. A value is an index into this
// palette: nil, no value at all, the booleans, integers, floats, strings, then the other types.
constexpr lua_Integer palette_integers[] = {
    0, 3, -1, LUA_MININTEGER, LUA_MAXINTEGER, max_delay, max_delay + 1};
constexpr double palette_floats[] = {
    0.5, 3.0, std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL, -0.0, 1e300};
constexpr std::string_view palette_strings[] = {
    "", "abc", "3", "-1", "0x3", "3.5", " 3 ", "nan", {"SIGURG\0x", 8}};  // == "SIGURG" for strcmp
enum class object : std::uint8_t {
    table,
    plain_meta,
    callable_table,
    function,
    live_timer,
    dead_timer,
    foreign_ud,
    light_ud,
    thread,
    module,
    count
};
constexpr int no_value = 1;
constexpr int first_integer = 4;
constexpr int first_float = first_integer + static_cast<int>(std::size(palette_integers));
constexpr int first_string = first_float + static_cast<int>(std::size(palette_floats));
constexpr int first_object = first_string + static_cast<int>(std::size(palette_strings));
constexpr int palette_size = first_object + static_cast<int>(object::count);

enum class param : std::uint8_t {
    delay,
    delay_opt,
    callable,
    callable_opt,
    signal_name,
    count_opt,
    exit_code_opt,
    string,
    timer,
    live_timer,
};

struct api_entry {
    const char* name;  // a module function, "log.<level>", or a timer method / metamethod
    enum { function, method, metamethod } where;
    int nparams;
    std::array<param, 2> params;
};

constexpr api_entry strict_api[] = {
    {"oneoff", api_entry::function, 2, {param::delay, param::callable}},
    {"getit", api_entry::function, 2, {param::delay, param::callable}},
    {"sleep", api_entry::function, 1, {param::delay}},
    {"wait", api_entry::function, 1, {param::delay_opt}},
    {"process_events", api_entry::function, 1, {param::count_opt}},
    {"stop", api_entry::function, 1, {param::exit_code_opt}},
    {"on_error", api_entry::function, 1, {param::callable_opt}},
    {"signal", api_entry::function, 2, {param::signal_name, param::callable_opt}},
    {"notify", api_entry::function, 1, {param::string}},
    {"log.trace", api_entry::function, 1, {param::string}},
    {"log.info", api_entry::function, 1, {param::string}},
    {"log.error", api_entry::function, 1, {param::string}},
    {"destroy", api_entry::method, 1, {param::timer}},
    {"reset", api_entry::method, 2, {param::live_timer, param::delay_opt}},
    {"active", api_entry::method, 1, {param::timer}},
    {"interval", api_entry::method, 1, {param::timer}},
    {"kind", api_entry::method, 1, {param::timer}},
    {"ref", api_entry::method, 1, {param::live_timer}},
    {"unref", api_entry::method, 1, {param::live_timer}},
    {"__tostring", api_entry::metamethod, 1, {param::timer}},
    {"__close", api_entry::metamethod, 1, {param::timer}},
};

// Functions that change nothing the model tracks, whatever their arguments.
constexpr api_entry read_only_api[] = {
    {"time", api_entry::function, 0, {}},         {"mstimestamp", api_entry::function, 0, {}},
    {"hrtime", api_entry::function, 0, {}},       {"pending", api_entry::function, 0, {}},
    {"inqueue", api_entry::function, 0, {}},      {"stats", api_entry::function, 0, {}},
    {"notify", api_entry::function, 0, {}},       {"log.debug", api_entry::function, 0, {}},
    {"log.warn", api_entry::function, 0, {}},     {"active", api_entry::method, 0, {}},
    {"interval", api_entry::method, 0, {}},       {"kind", api_entry::method, 0, {}},
    {"__tostring", api_entry::metamethod, 0, {}}, {"stopping", api_entry::function, 0, {}},
};

constexpr const char* formats[] = {"%d",       "%s",      "%q",    "%5.2f", "%z",
                                   "%",        "%99999d", "%c",    "%x",    "%i",
                                   "%s %s %s", "plain",   "%-5s|", "%.3s",  "%a"};

class harness;
harness* current = nullptr;  // the callbacks' way back: one input runs at a time

int on_timer(lua_State* L);
int on_signal(lua_State* L);
int on_error_handler(lua_State* L);
int error_tostring(lua_State* L);

int never_called(lua_State*) {
    violation("a function given only with a bad argument was called");
}

class harness {
  public:
    explicit harness(FuzzedDataProvider& in);
    ~harness();
    harness(const harness&) = delete;
    harness& operator=(const harness&) = delete;

    void run_ops();
    void finish();

    // Called from the Lua side.
    void timer_fired(lua_State* L);
    void signal_handled(lua_State* L);
    void error_handled(lua_State* L);

  private:
    // Setup.
    void keep(const char* key);
    void push_kept(const char* key);
    void push_api(const api_entry& entry);
    void push_module_function(const char* name);

    // The operations, usable from the top level and from callbacks.
    void op_arm(bool repeats);
    int arm(int slot, bool repeats, std::int64_t delay, const timer_model& spec);
    void destroy(int slot, bool by_close);
    void reset(int slot, std::optional<std::int64_t> delay);
    void set_ref(int slot, bool referenced);
    void stop(lua_Integer code);
    int drain(std::optional<std::int64_t> max);
    void run_loop();
    std::size_t wait(std::optional<std::int64_t> timeout);
    void check_wait_when_stopping(int status);
    void wait_unbounded();
    void sleep(std::int64_t ms, bool resume);
    void watch(signal_model& s, bool on);
    void raise_signal(signal_model& s);
    void set_on_error(error_mode mode);
    void drop(int slot);
    void reopen();
    void bad_argument();
    void random_call();
    void push_value(int v);
    void push_valid(param p);
    bool valid_for(param p, int index);
    void perform(std::size_t serial, lua_State* L);

    // Checks.
    void check_invariants(bool consuming);
    void check_slot(int slot);
    std::int64_t max_pending(steady::time_point now) const;
    lua_Integer call_integer(const char* name);
    void deliver(std::int64_t id);
    void deliver_caught(const char* message);
    void count_callback();
    void pop_to(int top);

    std::int64_t take_budget(std::int64_t ms);
    std::size_t serial_in(int slot) const;
    bool occupied(int slot) const { return slot_serial_[slot] != no_serial; }
    bool live_oneoff() const;
    bool referenced_interval() const;

    static constexpr std::size_t no_serial = SIZE_MAX;

    FuzzedDataProvider& in_;
    lua_State* L_;
    std::deque<timer_model> timers_;  // by serial; a deque keeps references valid on growth
    std::array<std::size_t, slot_count> slot_serial_;
    std::vector<drain_frame> frames_;
    std::array<signal_model, 2> signals_{{{SIGURG, "SIGURG"}, {SIGWINCH, "SIGWINCH"}}};
    std::vector<int> delivered_;  // by error id: how many times it reached somebody
    std::int64_t raised_ = 0;
    std::int64_t delivered_total_ = 0;
    error_mode on_error_ = error_mode::propagate;
    bool stop_requested_ = false;
    bool stop_told_ = false;  // a wait() returned 0 for the stop: the next one raises it
    lua_Integer stop_code_ = 0;
    steady::duration blocked_{};  // how much of block_budget is spent
    steady::time_point run_started_;
    std::int64_t run_callbacks_ = 0;
    bool final_phase_ = false;
    int depth_ = 0;  // callbacks on the stack
    std::size_t last_pending_ = 0;
    std::size_t last_inqueue_ = 0;
};

harness::harness(FuzzedDataProvider& in) : in_{in}, L_{luaL_newstate()} {
    if (L_ == nullptr) violation("luaL_newstate failed");
    slot_serial_.fill(no_serial);
    luaL_openlibs(L_);
    luaL_requiref(L_, "mockit", luaopen_mockit, 1);
    keep("mockit");
    // The default sink writes to stderr: quiet, but the lines are still formatted (and checked).
    mockit::lua::set_log_sink(
        L_, [](mockit::lua::log_level, std::string_view) {}, mockit::lua::log_level::trace);
    lua_createtable(L_, slot_count, 0);
    keep("slots");
    // A live timer far in the future, and a destroyed one, for arguments that must be timers.
    push_module_function("getit");
    lua_pushinteger(L_, 100'000);
    lua_pushcfunction(L_, never_called);
    if (lua_pcall(L_, 2, 1, 0) != LUA_OK) violation("getit: %s", lua_tostring(L_, -1));
    lua_getfield(L_, -1, "unref");  // so that it never keeps run() going
    lua_pushvalue(L_, -2);
    lua_call(L_, 1, 0);
    keep("spare_live");
    push_module_function("oneoff");
    lua_pushinteger(L_, 100'000);
    lua_pushcfunction(L_, never_called);
    lua_call(L_, 2, 1);
    lua_getfield(L_, -1, "destroy");
    lua_pushvalue(L_, -2);
    lua_call(L_, 1, 0);
    keep("spare_dead");
    lua_createtable(L_, 0, 1);
    lua_pushcfunction(L_, on_timer);
    lua_setfield(L_, -2, "__call");
    lua_newtable(L_);
    lua_pushvalue(L_, -2);
    lua_setmetatable(L_, -2);
    keep("callable");
    keep("callable_meta");
    lua_createtable(L_, 0, 1);
    lua_pushcfunction(L_, error_tostring);
    lua_setfield(L_, -2, "__tostring");
    keep("error_meta");
    // A to-be-closed variable, as a script would write it.
    if (luaL_loadstring(L_, "local t = ...; do local c <close> = t end") != LUA_OK)
        violation("close chunk: %s", lua_tostring(L_, -1));
    keep("close_chunk");
    lua_getglobal(L_, "io");
    lua_getfield(L_, -1, "stdout");
    keep("foreign");
    lua_pop(L_, 1);
    lua_newthread(L_);
    keep("thread");
    current = this;
    last_inqueue_ = static_cast<std::size_t>(call_integer("inqueue"));
}

harness::~harness() {
    lua_close(L_);  // must release everything, armed timers included, without a hang or a leak
    current = nullptr;
}

void harness::keep(const char* key) {
    lua_setfield(L_, LUA_REGISTRYINDEX, key);
}

void harness::push_kept(const char* key) {
    lua_getfield(L_, LUA_REGISTRYINDEX, key);
}

void harness::push_module_function(const char* name) {
    push_kept("mockit");
    if (std::strncmp(name, "log.", 4) == 0) {
        lua_getfield(L_, -1, "log");
        lua_remove(L_, -2);
        name += 4;
    }
    lua_getfield(L_, -1, name);
    lua_remove(L_, -2);
}

void harness::push_api(const api_entry& entry) {
    if (entry.where == api_entry::function) return push_module_function(entry.name);
    push_kept("spare_live");
    lua_getmetatable(L_, -1);
    if (entry.where == api_entry::method) lua_getfield(L_, -1, "__index");
    lua_getfield(L_, -1, entry.name);
    lua_replace(L_, -(entry.where == api_entry::method ? 4 : 3));
    lua_settop(L_, lua_gettop(L_) - (entry.where == api_entry::method ? 2 : 1));
}

void harness::pop_to(int top) {
    lua_settop(L_, top);
}

std::size_t harness::serial_in(int slot) const {
    return slot_serial_[slot];
}

bool harness::live_oneoff() const {
    return std::any_of(timers_.begin(), timers_.end(),
                       [](const timer_model& t) { return t.live && !t.repeats; });
}

bool harness::referenced_interval() const {
    return std::any_of(timers_.begin(), timers_.end(),
                       [](const timer_model& t) { return t.live && t.repeats && t.referenced; });
}

// Takes up to `ms` from the blocking budget: what an operation may block for.
std::int64_t harness::take_budget(std::int64_t ms) {
    auto left = std::chrono::duration_cast<milliseconds>(block_budget - blocked_).count();
    return std::max<std::int64_t>(0, std::min(ms, left));
}

lua_Integer harness::call_integer(const char* name) {
    int top = lua_gettop(L_);
    push_module_function(name);
    if (lua_pcall(L_, 0, 1, 0) != LUA_OK) violation("%s(): %s", name, lua_tostring(L_, -1));
    int isnum = 0;
    lua_Integer n = lua_tointegerx(L_, -1, &isnum);
    if (!isnum || n < 0) violation("%s() returned %s", name, luaL_typename(L_, -1));
    pop_to(top);
    return n;
}

// Arming ------------------------------------------------------------------------------------

void harness::op_arm(bool repeats) {
    timer_model spec;
    int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
    std::int64_t delay = in_.ConsumeIntegralInRange(0, max_delay_ms);
    spec.extra = in_.ConsumeIntegralInRange(0, 3);
    spec.via_table = in_.ConsumeBool();
    spec.act = static_cast<action>(in_.ConsumeIntegralInRange(0, static_cast<int>(action::last)));
    spec.target = in_.ConsumeIntegralInRange(0, slot_count - 1);
    spec.param = in_.ConsumeIntegralInRange(0, 255);
    arm(slot, repeats, delay, spec);
}

// Arms a timer into `slot` (the handle there before is dropped, as a script overwriting its
// variable drops it). Returns its serial.
int harness::arm(int slot, bool repeats, std::int64_t delay, const timer_model& spec) {
    int top = lua_gettop(L_);
    std::size_t serial = timers_.size();
    timers_.push_back(spec);
    timer_model& t = timers_.back();
    t.repeats = repeats;
    t.delay_ms = repeats ? std::max<std::int64_t>(delay, 1) : delay;
    push_module_function(repeats ? "getit" : "oneoff");
    lua_pushinteger(L_, delay);
    if (t.via_table) {
        push_kept("callable");
    } else {
        lua_pushcfunction(L_, on_timer);
    }
    lua_pushinteger(L_, static_cast<lua_Integer>(serial));
    for (int i = 1; i <= t.extra; ++i)
        lua_pushfstring(L_, "x%d", i);
    t.armed_at = steady::now();
    if (lua_pcall(L_, 3 + t.extra, 1, 0) != LUA_OK)
        violation("%s(%lld, f): %s", repeats ? "getit" : "oneoff", static_cast<long long>(delay),
                  lua_tostring(L_, -1));
    if (!luaL_testudata(L_, -1, "mockit.timer")) violation("arming returned no timer");
    t.live = true;
    trace("arm #%zu into slot %d: %s %lld ms, action %d", serial, slot,
          repeats ? "interval" : "oneoff", static_cast<long long>(delay), static_cast<int>(t.act));
    drop(slot);
    push_kept("slots");
    lua_pushvalue(L_, -2);
    lua_rawseti(L_, -2, slot + 1);
    slot_serial_[slot] = serial;
    t.slot = slot;
    pop_to(top);
    return static_cast<int>(serial);
}

void harness::drop(int slot) {
    if (!occupied(slot)) return;
    timers_[serial_in(slot)].slot = -1;
    slot_serial_[slot] = no_serial;
    int top = lua_gettop(L_);
    push_kept("slots");
    lua_pushnil(L_);
    lua_rawseti(L_, -2, slot + 1);
    pop_to(top);
}

// Timer methods -----------------------------------------------------------------------------

void harness::destroy(int slot, bool by_close) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    if (by_close) {
        push_kept("close_chunk");
        lua_pushvalue(L_, -2);
    } else {
        lua_getfield(L_, -1, "destroy");
        lua_pushvalue(L_, -2);
    }
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) violation("destroy: %s", lua_tostring(L_, -1));
    if (!lua_isnil(L_, -1)) violation("destroy() returned a %s", luaL_typename(L_, -1));
    trace("destroy #%zu", serial_in(slot));
    t.destroyed = true;
    t.live = false;
    pop_to(top);
}

void harness::reset(int slot, std::optional<std::int64_t> delay) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    int handle = lua_gettop(L_);
    lua_getfield(L_, handle, "reset");
    lua_pushvalue(L_, handle);
    if (delay) lua_pushinteger(L_, *delay);
    steady::time_point before = steady::now();
    int status = lua_pcall(L_, delay ? 2 : 1, 1, 0);
    if (t.destroyed) {
        if (status == LUA_OK || !std::strstr(lua_tostring(L_, -1), "destroyed"))
            violation("reset() of a destroyed timer did not raise 'destroyed'");
        return pop_to(top);
    }
    if (status != LUA_OK) violation("reset: %s", lua_tostring(L_, -1));
    if (!lua_rawequal(L_, -1, handle)) violation("reset() did not return the timer");
    trace("reset #%zu (%lld ms)", serial_in(slot), static_cast<long long>(delay.value_or(-1)));
    if (delay) t.delay_ms = t.repeats ? std::max<std::int64_t>(*delay, 1) : *delay;
    t.armed_at = before;
    t.fires = 0;
    t.live = true;
    pop_to(top);
}

void harness::set_ref(int slot, bool referenced) {
    if (!occupied(slot)) return;
    int top = lua_gettop(L_);
    timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    lua_getfield(L_, -1, referenced ? "ref" : "unref");
    lua_pushvalue(L_, -2);
    int status = lua_pcall(L_, 1, 1, 0);
    if (t.destroyed) {
        if (status == LUA_OK) violation("ref/unref of a destroyed timer did not raise");
    } else if (status != LUA_OK) {
        violation("ref/unref: %s", lua_tostring(L_, -1));
    } else {
        t.referenced = referenced;
    }
    pop_to(top);
}

// The loop ----------------------------------------------------------------------------------

void harness::stop(lua_Integer code) {
    int top = lua_gettop(L_);
    push_module_function("stop");
    lua_pushinteger(L_, code);
    if (lua_pcall(L_, 1, 0, 0) != LUA_OK) violation("stop: %s", lua_tostring(L_, -1));
    stop_requested_ = true;
    stop_code_ = code;
    for (drain_frame& f : frames_)
        f.stop_seen = true;
    pop_to(top);
}

// process_events([max]); returns its status (an error has been delivered).
int harness::drain(std::optional<std::int64_t> max) {
    int top = lua_gettop(L_);
    int depth = depth_;
    frames_.push_back({stop_requested_, false, max.value_or(no_max)});
    push_module_function("process_events");
    if (max) lua_pushinteger(L_, *max);
    int status = lua_pcall(L_, max ? 1 : 0, 1, 0);
    depth_ = depth;  // a callback's error skipped its own bookkeeping
    drain_frame frame = frames_.back();
    frames_.pop_back();
    trace("process_events(%lld): %s after %lld callbacks", static_cast<long long>(frame.max),
          status == LUA_OK ? "returned" : "raised", static_cast<long long>(frame.ran));
    if (status == LUA_OK) {
        lua_Integer n = lua_tointeger(L_, -1);
        if (n != frame.ran)
            violation("process_events() returned %lld, %lld callbacks ran",
                      static_cast<long long>(n), static_cast<long long>(frame.ran));
    } else {
        deliver_caught(lua_tostring(L_, -1));
    }
    pop_to(top);
    return status;
}

void harness::run_loop() {
    int top = lua_gettop(L_);
    bool stop_before = stop_requested_;
    frames_.push_back({false, stop_before, no_max, 0, true});
    run_started_ = steady::now();
    run_callbacks_ = 0;
    push_module_function("run");
    int depth = depth_;
    int status = lua_pcall(L_, 0, 1, 0);
    depth_ = depth;
    frames_.pop_back();
    blocked_ += steady::now() - run_started_;
    if (status == LUA_OK) {
        lua_Integer code = lua_tointeger(L_, -1);
        lua_Integer want = stop_requested_ ? stop_code_ : 0;
        if (code != want)
            violation("run() returned %lld, want %lld", static_cast<long long>(code),
                      static_cast<long long>(want));
        if (!stop_requested_) {
            pop_to(top);
            push_module_function("stats");
            lua_call(L_, 0, 1);
            lua_getfield(L_, -1, "referenced");
            if (lua_tointeger(L_, -1) != 0)
                violation("run() ended on its own with a referenced timer alive");
        }
    } else {
        deliver_caught(lua_tostring(L_, -1));
    }
    stop_requested_ = false;
    stop_told_ = false;
    pop_to(top);
}

// wait() once a stop is asked for, with its status and result on the stack: 0 the first time,
// the stop raised after that.
void harness::check_wait_when_stopping(int status) {
    if (!stop_told_) {
        if (status != LUA_OK || lua_tointeger(L_, -1) != 0)
            violation("the first wait() after stop() did not return 0");
        stop_told_ = true;
        return;
    }
    if (status == LUA_OK) violation("a second wait() after stop() returned");
    std::optional<mockit::lua::raised_stop> stop = mockit::lua::stop_of(L_, -1);
    if (!stop || stop->exit_code != stop_code_)
        violation("a second wait() after stop(%lld) raised something else",
                  static_cast<long long>(stop_code_));
}

std::size_t harness::wait(std::optional<std::int64_t> timeout) {
    int top = lua_gettop(L_);
    auto before = static_cast<std::size_t>(call_integer("pending"));
    push_module_function("wait");
    if (timeout) lua_pushinteger(L_, *timeout);
    steady::time_point start = steady::now();
    int status = lua_pcall(L_, timeout ? 1 : 0, 1, 0);
    blocked_ += steady::now() - start;
    if (stop_requested_) {
        check_wait_when_stopping(status);
        pop_to(top);
        return 0;
    }
    if (status != LUA_OK) violation("wait: %s", lua_tostring(L_, -1));
    auto n = static_cast<std::size_t>(lua_tointeger(L_, -1));
    if (n < before) violation("wait() returned %zu with %zu callbacks pending before", n, before);
    auto after = static_cast<std::size_t>(call_integer("pending"));
    if (after < n) violation("pending() is %zu just after wait() returned %zu", after, n);
    pop_to(top);
    return n;
}

// wait() with no timeout, when a live one-off must end it. Any signal handler that runs in this
// thread ends it early too, as EINTR does (libFuzzer's SIGALRM every few seconds): only three
// empty returns in a row count as a wait that nothing ended.
void harness::wait_unbounded() {
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (wait(std::nullopt) > 0 || stop_requested_) return;
    }
    violation("wait() without a timeout keeps returning 0 with a one-off live");
}

void harness::sleep(std::int64_t ms, bool resume) {
    int top = lua_gettop(L_);
    push_module_function("sleep");
    lua_pushinteger(L_, ms);
    lua_pushboolean(L_, resume);
    steady::time_point start = steady::now();
    if (lua_pcall(L_, 2, 2, 0) != LUA_OK) violation("sleep: %s", lua_tostring(L_, -1));
    auto slept = steady::now() - start;
    blocked_ += slept;
    lua_Integer err = lua_tointeger(L_, -2), left = lua_tointeger(L_, -1);
    if (err == 0) {
        if (left != 0) violation("sleep() returned 0, %lld", static_cast<long long>(left));
        if (slept < milliseconds{ms}) violation("sleep(%lld) returned early", (long long)ms);
    } else if (err != EINTR || resume || left < 0 || left > ms) {
        violation("sleep(%lld, %d) returned %lld, %lld", static_cast<long long>(ms), resume,
                  static_cast<long long>(err), static_cast<long long>(left));
    }
    pop_to(top);
}

// Signals and errors ------------------------------------------------------------------------

void harness::watch(signal_model& s, bool on) {
    int top = lua_gettop(L_);
    push_module_function("signal");
    lua_pushstring(L_, s.name);
    if (on) {
        lua_pushcfunction(L_, on_signal);
    } else {
        lua_pushnil(L_);
    }
    if (lua_pcall(L_, 2, 0, 0) != LUA_OK) violation("signal: %s", lua_tostring(L_, -1));
    if (!on) s.owed = 0;  // arrivals not yet handled are forgotten with the handler
    s.watched = on;
    pop_to(top);
}

void harness::raise_signal(signal_model& s) {
    // raise() runs the C handler in this thread before it returns, so the arrival is counted
    // at once. Unwatched, both signals are ignored by default.
    auto before = static_cast<std::size_t>(call_integer("pending"));
    if (std::raise(s.signo) != 0) violation("raise(%s) failed", s.name);
    if (!s.watched) return;
    ++s.owed;
    auto after = static_cast<std::size_t>(call_integer("pending"));
    if (after < before + 1) violation("pending() %zu -> %zu after a watched signal", before, after);
}

void harness::set_on_error(error_mode mode) {
    int top = lua_gettop(L_);
    push_module_function("on_error");
    if (mode == error_mode::propagate) {
        lua_pushnil(L_);
    } else {
        lua_pushcfunction(L_, on_error_handler);
    }
    if (lua_pcall(L_, 1, 0, 0) != LUA_OK) violation("on_error: %s", lua_tostring(L_, -1));
    on_error_ = mode;
    pop_to(top);
}

void harness::deliver(std::int64_t id) {
    if (id < 0 || id >= raised_)
        violation("an error nobody raised was delivered (id %lld)", (long long)id);
    if (++delivered_[static_cast<std::size_t>(id)] > 1)
        violation("error %lld was delivered twice", static_cast<long long>(id));
    ++delivered_total_;
}

// An error caught from process_events() or run(): it must carry exactly one raised error.
void harness::deliver_caught(const char* message) {
    if (message == nullptr) violation("process_events/run raised a non-string error");
    const char* at = std::strstr(message, "FUZZ-");
    if (at == nullptr) violation("an error no callback raised came out: %s", message);
    const char* hash = std::strchr(at, '#');
    if (hash == nullptr) violation("mangled error: %s", message);
    deliver(std::strtoll(hash + 1, nullptr, 10));
    if (std::strstr(hash, "FUZZ-") != nullptr) violation("two errors in one message: %s", message);
}

// What a callback does ----------------------------------------------------------------------

void harness::perform(std::size_t serial, lua_State* L) {
    if (final_phase_) return;
    drain_frame& frame = frames_.back();
    if (frames_.front().is_run &&
        (run_callbacks_ > run_callback_budget || steady::now() - run_started_ > run_time_budget)) {
        if (!frame.stop_seen) stop(forced_stop_code);  // run() must end; enough was seen
        return;
    }
    const timer_model t = timers_[serial];  // a copy: what follows may add timers
    bool own = t.slot >= 0 && serial_in(t.slot) == serial;
    switch (t.act) {
        case action::none:
            break;
        case action::raise_string: {
            std::int64_t id = raised_++;
            delivered_.push_back(0);
            luaL_error(L, "FUZZ-ERR#%d", static_cast<int>(id));
            break;
        }
        case action::raise_table: {
            std::int64_t id = raised_++;
            delivered_.push_back(0);
            lua_createtable(L, 0, 1);
            lua_pushinteger(L, id);
            lua_setfield(L, -2, "id");
            push_kept("error_meta");
            lua_setmetatable(L, -2);
            lua_error(L);
            break;
        }
        case action::destroy_self:
            if (own) destroy(t.slot, t.param % 2 == 0);
            break;
        case action::destroy_slot:
            destroy(t.target, t.param % 2 == 0);
            break;
        case action::reset_self:
            if (own)
                reset(t.slot,
                      t.param % 8 < max_delay_ms ? std::optional(t.param % 8) : std::nullopt);
            break;
        case action::reset_slot:
            reset(t.target, t.param % 8 < max_delay_ms ? std::optional(t.param % 8) : std::nullopt);
            break;
        case action::arm_into_slot:
            if (!occupied(t.target) || !timers_[serial_in(t.target)].live)
                arm(t.target, false, t.param % (max_delay_ms + 1), timer_model{});
            break;
        case action::nested_drain:
            if (depth_ < max_depth) {
                drain(t.param % 4 == 0 ? std::nullopt : std::optional<std::int64_t>(t.param % 4));
            }
            break;
        case action::stop:
            stop(t.param);
            break;
        case action::sleep:
            sleep(take_budget(t.param % 2), t.param % 4 < 2);
            break;
        case action::unref_self:
            if (own) set_ref(t.slot, false);
            break;
        case action::wait_zero:
            wait(0);
            break;
    }
}

// Bookkeeping common to timer and signal callbacks: whose drain runs it, and may it start.
void harness::count_callback() {
    if (frames_.empty()) violation("a callback ran outside process_events() and run()");
    drain_frame& f = frames_.back();
    if (f.stop_seen && !f.stopped_before)
        violation("a callback started after mockit.stop() in the same drain");
    if (++f.ran > f.max)
        violation("process_events(%lld) ran more callbacks", static_cast<long long>(f.max));
    if (frames_.front().is_run) ++run_callbacks_;
}

void harness::timer_fired(lua_State* L) {
    int base = lua_istable(L, 1) ? 2 : 1;  // a callable table gets itself first
    int isnum = 0;
    lua_Integer serial = lua_tointegerx(L, base, &isnum);
    if (!isnum || serial < 0 || static_cast<std::size_t>(serial) >= timers_.size())
        violation("a callback got a bad serial argument");
    auto s = static_cast<std::size_t>(serial);
    timer_model& t = timers_[s];
    if (lua_gettop(L) != base + t.extra) violation("timer %zu: wrong argument count", s);
    for (int i = 1; i <= t.extra; ++i) {
        const char* x = lua_tostring(L, base + i);
        if (x == nullptr || x[0] != 'x' || std::atoi(x + 1) != i)
            violation("timer %zu: argument %d changed", s, i);
    }
    auto elapsed = steady::now() - t.armed_at;
    if (t.destroyed) violation("timer %zu: a callback ran after destroy()", s);
    if (!t.live) violation("timer %zu: a callback ran while not armed (a one-off twice?)", s);
    ++t.fires;
    if (elapsed < milliseconds{t.delay_ms} * t.fires)
        violation("timer %zu: call %lld after only %lld us (every %lld ms)", s,
                  static_cast<long long>(t.fires),
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
                  static_cast<long long>(t.delay_ms));
    if (!t.repeats) t.live = false;
    trace("callback #%zu: call %lld at %lld us", s, static_cast<long long>(t.fires),
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
    count_callback();
    ++depth_;
    perform(s, L);  // may raise: depth_ is then restored by whoever catches
    --depth_;
}

void harness::signal_handled(lua_State* L) {
    const char* name = lua_tostring(L, 1);
    signal_model* s = nullptr;
    for (signal_model& candidate : signals_) {
        if (name != nullptr && std::strcmp(name, candidate.name) == 0) s = &candidate;
    }
    if (s == nullptr || !s->watched) violation("a signal handler ran for %s", name ? name : "?");
    if (--s->owed < 0) violation("%s: the handler ran more often than the signal arrived", name);
    count_callback();
}

void harness::error_handled(lua_State* L) {
    if (lua_type(L, 2) != LUA_TSTRING || !std::strstr(lua_tostring(L, 2), "stack traceback"))
        violation("on_error: the second argument is not a traceback");
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "id");
        deliver(lua_tointeger(L, -1));
        lua_pop(L, 1);
    } else {
        deliver_caught(lua_tostring(L, 1));
    }
    if (on_error_ == error_mode::raise) {
        std::int64_t id = raised_++;
        delivered_.push_back(0);
        luaL_error(L, "FUZZ-HERR#%d", static_cast<int>(id));
    }
}

// Bad arguments -----------------------------------------------------------------------------

// Pushes palette value `v`; never no_value, which the caller passes by passing nothing.
void harness::push_value(int v) {
    if (v == 0) return lua_pushnil(L_);
    if (v < first_integer) return lua_pushboolean(L_, v == first_integer - 1);
    if (v < first_float) return lua_pushinteger(L_, palette_integers[v - first_integer]);
    if (v < first_string) return lua_pushnumber(L_, palette_floats[v - first_float]);
    if (v < first_object) {
        std::string_view text = palette_strings[v - first_string];
        lua_pushlstring(L_, text.data(), text.size());
        return;
    }
    switch (static_cast<object>(v - first_object)) {
        case object::table:
            return lua_newtable(L_);
        case object::plain_meta:
            lua_newtable(L_);
            lua_newtable(L_);
            lua_setmetatable(L_, -2);
            return;
        case object::callable_table:
            return push_kept("callable");
        case object::function:
            return lua_pushcfunction(L_, never_called);
        case object::live_timer:
            return push_kept("spare_live");
        case object::dead_timer:
            return push_kept("spare_dead");
        case object::foreign_ud:
            return push_kept("foreign");
        case object::light_ud:
            return lua_pushlightuserdata(L_, this);
        case object::thread:
            return push_kept("thread");
        case object::module:
        case object::count:
            return push_kept("mockit");
    }
}

// Pushes a valid argument for `p`, harmless should the call go through.
void harness::push_valid(param p) {
    switch (p) {
        case param::delay:
        case param::delay_opt:
            return lua_pushinteger(L_, 100'000);
        case param::callable:
        case param::callable_opt:
            return lua_pushcfunction(L_, never_called);
        case param::signal_name:
            lua_pushliteral(L_, "SIGURG");
            return;
        case param::count_opt:
        case param::exit_code_opt:
            return lua_pushinteger(L_, 0);
        case param::string:
            lua_pushliteral(L_, "x");
            return;
        case param::timer:
        case param::live_timer:
            return push_kept("spare_live");
    }
}

bool harness::valid_for(param p, int index) {
    auto integer_in = [&](lua_Integer lo, lua_Integer hi) {
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L_, index, &isnum);
        return isnum && n >= lo && n <= hi;
    };
    auto callable = [&] {
        if (lua_isfunction(L_, index)) return true;
        bool has = luaL_getmetafield(L_, index, "__call") != LUA_TNIL;
        if (has) lua_pop(L_, 1);
        return has;
    };
    bool nil = lua_isnoneornil(L_, index);
    switch (p) {
        case param::delay:
            return integer_in(0, max_delay);
        case param::delay_opt:
            return nil || integer_in(0, max_delay);
        case param::callable:
            return callable();
        case param::callable_opt:
            return nil || callable();
        case param::signal_name: {
            // Not lua_tostring on a number: it would turn the argument into a string.
            if (lua_type(L_, index) != LUA_TSTRING) return false;
            return std::strcmp(lua_tostring(L_, index), "SIGURG") == 0;  // "SIGURG\0x" too
        }
        case param::count_opt:
            return nil || integer_in(0, LUA_MAXINTEGER);
        case param::exit_code_opt:
            return nil || integer_in(0, 255);
        case param::string:
            return lua_isstring(L_, index);
        case param::timer:
            return luaL_testudata(L_, index, "mockit.timer") != nullptr;
        case param::live_timer: {
            push_kept("spare_live");
            bool live = lua_rawequal(L_, index, -1);
            lua_pop(L_, 1);
            return live;
        }
    }
    return false;
}

// One argument of every type where the API must refuse it; the others valid. Must raise
// "bad argument #n" and change nothing.
void harness::bad_argument() {
    const api_entry& entry = in_.PickValueInArray(strict_api);
    int bad = in_.ConsumeIntegralInRange(0, entry.nparams - 1);
    int v = in_.ConsumeIntegralInRange(0, palette_size - 1);
    param p = entry.params[bad];
    bool optional = p == param::delay_opt || p == param::callable_opt || p == param::count_opt ||
                    p == param::exit_code_opt;
    if (v == no_value && optional) return;  // leaving it out is valid
    int top = lua_gettop(L_);
    push_api(entry);
    int nargs = 0;
    for (int i = 0; i < entry.nparams; ++i) {
        if (i != bad) {
            push_valid(entry.params[i]);
        } else if (v == no_value) {
            break;  // one argument fewer than it takes
        } else {
            push_value(v);
            if (valid_for(p, lua_gettop(L_))) return pop_to(top);
        }
        ++nargs;
    }
    if (lua_pcall(L_, nargs, LUA_MULTRET, 0) == LUA_OK)
        violation("%s: a bad argument #%d (palette value %d) was accepted", entry.name, bad + 1, v);
    const char* message = lua_tostring(L_, -1);
    char want[32];
    std::snprintf(want, sizeof want, "bad argument #%d", bad + 1);
    if (message == nullptr || !std::strstr(message, want))
        violation("%s with a bad argument #%d: message '%s'", entry.name, bad + 1,
                  message ? message : "(not a string)");
    pop_to(top);
}

// A function that changes nothing, with arguments of any type: it may raise, never crash.
void harness::random_call() {
    const api_entry& entry = in_.PickValueInArray(read_only_api);
    int top = lua_gettop(L_);
    push_api(entry);
    int nargs = in_.ConsumeIntegralInRange(0, 3);
    bool log = std::strncmp(entry.name, "log.", 4) == 0;
    for (int i = 0; i < nargs; ++i) {
        if (log && i == 0) {
            lua_pushstring(L_, in_.PickValueInArray(formats));
            continue;
        }
        int v = in_.ConsumeIntegralInRange(0, palette_size - 1);
        if (v == no_value) v = 0;  // nil: trailing "no value" is just fewer arguments
        push_value(v);
    }
    if (lua_pcall(L_, nargs, LUA_MULTRET, 0) != LUA_OK && lua_type(L_, -1) != LUA_TSTRING)
        violation("%s raised a non-string error", entry.name);
    pop_to(top);
}

// Opening the module again in the same state gives the same table.
void harness::reopen() {
    int top = lua_gettop(L_);
    for (lua_CFunction open : {luaopen_mockit, luaopen_luamockit}) {
        lua_pushcfunction(L_, open);
        if (lua_pcall(L_, 0, 1, 0) != LUA_OK) violation("luaopen: %s", lua_tostring(L_, -1));
        push_kept("mockit");
        if (!lua_rawequal(L_, -1, -2)) violation("opening the module again made a new table");
        pop_to(top);
    }
}

// Invariants --------------------------------------------------------------------------------

// The most callbacks that can be pending by `now`: each live timer's expiries so far, minus
// the calls it already had, plus the signal arrivals not handled yet.
std::int64_t harness::max_pending(steady::time_point now) const {
    std::int64_t n = 0;
    for (const timer_model& t : timers_) {
        if (!t.live) continue;
        auto elapsed = now - t.armed_at;
        if (!t.repeats) {
            n += elapsed >= milliseconds{t.delay_ms} ? 1 : 0;
        } else {
            n += elapsed / milliseconds{t.delay_ms} - t.fires;
        }
    }
    for (const signal_model& s : signals_)
        n += s.owed;
    return n;
}

void harness::check_slot(int slot) {
    if (!occupied(slot)) return;
    const timer_model& t = timers_[serial_in(slot)];
    push_kept("slots");
    lua_rawgeti(L_, -1, slot + 1);
    int handle = lua_gettop(L_);
    for (const char* method : {"active", "kind", "interval"}) {
        lua_getfield(L_, handle, method);
        lua_pushvalue(L_, handle);
        lua_call(L_, 1, 1);
    }
    bool active = lua_toboolean(L_, -3);
    const char* kind = lua_tostring(L_, -2);
    lua_Integer interval = lua_tointeger(L_, -1);
    if (active != t.live)
        violation("slot %d: active() is %d, the model says %d", slot, active, t.live);
    if (kind == nullptr || std::strcmp(kind, t.repeats ? "interval" : "oneoff") != 0)
        violation("slot %d: kind() is %s", slot, kind ? kind : "?");
    if (interval != t.delay_ms)
        violation("slot %d: interval() is %lld, want %lld", slot, static_cast<long long>(interval),
                  static_cast<long long>(t.delay_ms));
    lua_pop(L_, 5);
}

void harness::check_invariants(bool consuming) {
    if (lua_gettop(L_) != 0) violation("the harness left %d values on the stack", lua_gettop(L_));
    if (delivered_total_ != raised_)
        violation("%lld errors raised, %lld delivered", static_cast<long long>(raised_),
                  static_cast<long long>(delivered_total_));
    push_module_function("stats");
    lua_call(L_, 0, 1);
    auto field = [&](const char* name) {
        lua_getfield(L_, -1, name);
        lua_Integer n = lua_tointeger(L_, -1);
        lua_pop(L_, 1);
        return static_cast<std::int64_t>(n);
    };
    std::int64_t timers = field("timers"), referenced = field("referenced"), armed = field("armed");
    lua_pop(L_, 1);
    push_module_function("stopping");
    lua_call(L_, 0, 2);
    if ((lua_toboolean(L_, -2) != 0) != stop_requested_ ||
        (stop_requested_ && lua_tointeger(L_, -1) != stop_code_))
        violation("stopping() says %s, the model %s", lua_toboolean(L_, -2) ? "yes" : "no",
                  stop_requested_ ? "yes" : "no");
    lua_pop(L_, 2);
    auto pending = static_cast<std::size_t>(call_integer("pending"));
    auto inqueue = static_cast<std::size_t>(call_integer("inqueue"));
    std::int64_t bound = max_pending(steady::now());  // read after: the bound only grows
    trace("  timers %lld, referenced %lld, armed %lld, pending %zu (at most %lld), inqueue %zu",
          static_cast<long long>(timers), static_cast<long long>(referenced),
          static_cast<long long>(armed), pending, static_cast<long long>(bound), inqueue);

    std::int64_t live = 1, live_referenced = 0, live_intervals = 1;  // 1: the spare interval
    for (const timer_model& t : timers_) {
        live += t.live;
        live_referenced += t.live && t.referenced;
        live_intervals += t.live && t.repeats;
    }
    if (timers != live)
        violation("stats().timers %lld, %lld live", (long long)timers, (long long)live);
    if (referenced != live_referenced)
        violation("stats().referenced %lld, want %lld", static_cast<long long>(referenced),
                  static_cast<long long>(live_referenced));
    if (armed < live_intervals || armed > live)
        violation("stats().armed %lld outside [%lld, %lld]", static_cast<long long>(armed),
                  static_cast<long long>(live_intervals), static_cast<long long>(live));
    if (static_cast<std::int64_t>(pending) > bound)
        violation("pending() is %zu, at most %lld expiries can be owed", pending,
                  static_cast<long long>(bound));
    if (pending > 0 && inqueue == 0) violation("pending() %zu with inqueue() 0", pending);
    if (!consuming && (pending < last_pending_ || inqueue < last_inqueue_))
        violation("pending()/inqueue() fell from %zu/%zu to %zu/%zu with nothing consuming",
                  last_pending_, last_inqueue_, pending, inqueue);
    last_pending_ = pending;
    last_inqueue_ = inqueue;
    for (int slot = 0; slot < slot_count; ++slot)
        check_slot(slot);
}

// The input ---------------------------------------------------------------------------------

enum class op : std::uint8_t {
    arm_oneoff,
    arm_interval,
    destroy,
    close_scope,
    reset,
    reset_delay,
    ref,
    unref,
    wait,
    wait_unbounded,
    process_all,
    process_max,
    run,
    sleep,
    watch,
    unwatch,
    raise,
    on_error,
    stop,
    drop,
    collect,
    bad_argument,
    random_call,
    reopen,
    last = reopen,
};

void harness::run_ops() {
    for (int i = 0; i < max_ops && in_.remaining_bytes() > 0; ++i) {
        auto o = static_cast<op>(in_.ConsumeIntegralInRange(0, static_cast<int>(op::last)));
        int slot = in_.ConsumeIntegralInRange(0, slot_count - 1);
        bool consuming = false;
        trace("op %d, slot %d", static_cast<int>(o), slot);
        switch (o) {
            case op::arm_oneoff:
                op_arm(false);
                break;
            case op::arm_interval:
                op_arm(true);
                break;
            case op::destroy:
                destroy(slot, false);
                consuming = true;
                break;
            case op::close_scope:
                destroy(slot, true);
                consuming = true;
                break;
            case op::reset:
                reset(slot, std::nullopt);
                consuming = true;
                break;
            case op::reset_delay:
                reset(slot, in_.ConsumeIntegralInRange(0, max_delay_ms));
                consuming = true;
                break;
            case op::ref:
                set_ref(slot, true);
                break;
            case op::unref:
                set_ref(slot, false);
                break;
            case op::wait:
                wait(take_budget(in_.ConsumeIntegralInRange(0, max_delay_ms)));
                break;
            case op::wait_unbounded:
                // Only when something must end it: a callback pending, or a live one-off.
                if (call_integer("pending") > 0 ||
                    (live_oneoff() && take_budget(max_delay_ms) == max_delay_ms))
                    wait_unbounded();
                break;
            case op::process_all: {
                bool stopped_before = stop_requested_;
                if (drain(std::nullopt) == LUA_OK && (stopped_before || !stop_requested_)) {
                    for (const signal_model& s : signals_) {
                        if (s.owed != 0)
                            violation("%s: a full drain left %lld arrivals unhandled", s.name,
                                      (long long)s.owed);
                    }
                }
                consuming = true;
                break;
            }
            case op::process_max:
                drain(in_.ConsumeIntegralInRange(0, 3));
                consuming = true;
                break;
            case op::run:
                // Only when it must end: a referenced interval would keep it going for good.
                if ((stop_requested_ || !referenced_interval()) &&
                    take_budget(max_delay_ms) == max_delay_ms)
                    run_loop();
                consuming = true;
                break;
            case op::sleep:
                sleep(take_budget(in_.ConsumeIntegralInRange(0, 2)), in_.ConsumeBool());
                break;
            case op::watch:
                watch(signals_[slot % 2], true);
                break;
            case op::unwatch:
                watch(signals_[slot % 2], false);
                consuming = true;
                break;
            case op::raise:
                raise_signal(signals_[slot % 2]);
                break;
            case op::on_error:
                set_on_error(static_cast<error_mode>(slot % 3));
                break;
            case op::stop:
                stop(in_.ConsumeIntegralInRange(0, 255));
                break;
            case op::drop:
                drop(slot);
                break;
            case op::collect:
                lua_gc(L_, LUA_GCCOLLECT);
                break;
            case op::bad_argument:
                bad_argument();
                break;
            case op::random_call:
                random_call();
                break;
            case op::reopen:
                reopen();
                break;
        }
        check_invariants(consuming);
    }
}

// The end of an input: every due one-off must still fire (nothing lost), then everything is
// destroyed and the state closed.
void harness::finish() {
    final_phase_ = true;
    set_on_error(error_mode::absorb);
    steady::time_point start = steady::now();
    for (;;) {
        steady::time_point now = steady::now();
        const timer_model* due = nullptr;
        for (const timer_model& t : timers_) {
            if (t.live && !t.repeats && now - t.armed_at >= milliseconds{t.delay_ms}) due = &t;
        }
        if (due == nullptr) break;
        if (now - start > lost_limit)
            violation("a due one-off (delay %lld ms) has not fired after %lld ms",
                      static_cast<long long>(due->delay_ms),
                      static_cast<long long>(
                          std::chrono::duration_cast<milliseconds>(now - due->armed_at).count()));
        wait(50);
        drain(std::nullopt);
    }
    drain(std::nullopt);
    for (const signal_model& s : signals_) {
        if (s.owed != 0) violation("%s: arrivals left unhandled at the end", s.name);
    }
    for (int slot = 0; slot < slot_count; ++slot)
        destroy(slot, false);
    check_invariants(true);
}

int on_timer(lua_State* L) {
    current->timer_fired(L);
    return 0;
}

int on_signal(lua_State* L) {
    current->signal_handled(L);
    return 0;
}

int on_error_handler(lua_State* L) {
    current->error_handled(L);
    return 0;
}

int error_tostring(lua_State* L) {
    lua_getfield(L, 1, "id");
    lua_pushfstring(L, "FUZZ-ERR#%I", lua_tointeger(L, -1));
    return 1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    tracing = std::getenv("MOCKIT_FUZZ_TRACE") != nullptr;
    // Nothing of the environment may change what the module does between runs.
    unsetenv("NOTIFY_SOCKET");
    unsetenv("MOCKIT_LOG_LEVEL");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in{data, size};
    harness h{in};
    h.run_ops();
    h.finish();
    return 0;
}
