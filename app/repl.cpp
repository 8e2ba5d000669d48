// SPDX-License-Identifier: MIT
#include "repl.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "host_signals.hpp"
#include "line_editor.hpp"
#include "lua_runtime.hpp"
#include "mockit/lua_module.hpp"

namespace mockit::app {
namespace {

constexpr const char* default_prompt = "> ";    // lua.c's LUA_PROMPT
constexpr const char* default_prompt2 = ">> ";  // LUA_PROMPT2
constexpr std::size_t max_line = 512;           // lua.c's LUA_MAXINPUT, without readline

// Lines from standard input when it is not a terminal, as Debian's lua5.4 reads them (readline on
// a pipe): the prompt and then the line echoed on standard output, which Lua's own tests expect
// (main.lua). Read a byte at a time up to the newline, so that what follows stays in the input
// for the Lua code (io.read()), as it does after fgets.
class plain_lines {
  public:
    void begin_line(const std::string& prompt) {
        std::fputs(prompt.c_str(), stdout);
        std::fflush(stdout);
    }

    // nullopt while the line is not complete; then the line, or nullopt in `ended` at the end.
    std::optional<std::string> read_available() {
        int available = 0;
        if (::ioctl(STDIN_FILENO, FIONREAD, &available) != 0 || available <= 0)
            available = 1;  // the end of the input, or a descriptor without FIONREAD
        for (; available > 0; --available) {
            char byte = 0;
            ssize_t n = ::read(STDIN_FILENO, &byte, 1);
            if (n < 0 && errno == EINTR) return std::nullopt;
            if (n <= 0) return finish();
            line_ += byte;
            if (byte == '\n' || line_.size() >= max_line - 1) return take();
        }
        return std::nullopt;
    }

    bool ended = false;

  private:
    // The last line may lack its newline; the next read is the end.
    std::optional<std::string> finish() {
        if (!line_.empty()) return take();
        ended = true;
        return std::nullopt;
    }

    std::string take() {
        std::string line = std::move(line_);
        line_.clear();
        if (!line.empty() && line.back() == '\n') line.pop_back();
        std::fputs(line.c_str(), stdout);
        std::fputs("\n", stdout);
        return line;
    }

    std::string line_;
};

// lua.c's prompt: _PROMPT or _PROMPT2 through tostring (a table with __tostring will do), or the
// default.
std::string prompt_for(lua_State* L, bool first_line) {
    if (lua_getglobal(L, first_line ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
        lua_pop(L, 1);
        return first_line ? default_prompt : default_prompt2;
    }
    std::string prompt = luaL_tolstring(L, -1, nullptr);
    lua_pop(L, 2);
    return prompt;
}

// lua.c's incomplete(): a syntax error at the end of the chunk wants more lines.
bool incomplete(lua_State* L, int status) {
    if (status != LUA_ERRSYNTAX) return false;
    std::size_t length = 0;
    const char* message = lua_tolstring(L, -1, &length);
    constexpr std::string_view eof_mark = "<eof>";
    if (length < eof_mark.size() ||
        std::string_view(message + length - eof_mark.size()) != eof_mark)
        return false;
    lua_pop(L, 1);
    return true;
}

// lua.c's l_print: the results on the stack, through the global print.
void print_results(lua_State* L) {
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        std::fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
        std::fflush(stderr);
        lua_pop(L, 1);
    }
}

class repl {
  public:
    explicit repl(lua_State* L) : L_{L} {
        if (!isatty(STDIN_FILENO)) return;
        try {
            editor_ = std::make_unique<line_editor>("mockit-run");
        } catch (const std::exception& error) {  // lines are still read, without editing
            std::fprintf(stderr, "mockit-run: %s\n", error.what());
        }
    }

    // The session: returns its exit status.
    int run() {
        prompt();
        for (;;) {
            lua::input_wait wait = lua::wait_for_input(L_, STDIN_FILENO);
            if (take_prompt_sigint()) {
                drop_line();
                continue;
            }
            switch (wait.what) {
                case lua::input_wait::stopped:
                    if (editor_) editor_->hide();
                    return wait.exit_code;
                case lua::input_wait::due:
                    run_callbacks();
                    break;
                case lua::input_wait::input:
                    if (!read_input()) return EXIT_SUCCESS;
                    break;
                case lua::input_wait::woken:
                    break;
            }
        }
    }

  private:
    void prompt() {
        std::string text = prompt_for(L_, chunk_.empty());
        if (editor_) {
            editor_->begin_line(text);
        } else {
            plain_.begin_line(text);
        }
    }

    // ^C at the prompt: the line, and the statement it continued, are dropped.
    void drop_line() {
        if (editor_) {
            editor_->drop_line();
        } else {
            std::fputs("\n", stdout);
        }
        chunk_.clear();
        prompt();
    }

    // The callbacks due, with the line being typed off the screen meanwhile.
    void run_callbacks() {
        if (editor_) editor_->hide();
        set_prompt_waiting(false);
        lua_settop(L_, 0);
        push_process_events(L_);
        report(L_, docall(L_, 0, 0));
        lua_settop(L_, 0);
        rearm_interactive_sigint();
        set_prompt_waiting(true);
        if (editor_) editor_->show();
    }

    // Reads what the input has; false at its end.
    bool read_input() {
        std::optional<std::string> line;
        if (editor_) {
            line_editor::outcome got = editor_->read_available();
            if (got.what == line_editor::outcome::editing) return true;
            if (got.what == line_editor::outcome::line) line = std::move(got.text);
        } else {
            line = plain_.read_available();
            if (!line && !plain_.ended) return true;
        }
        if (!line) {
            end_of_input();
            return false;
        }
        take_line(*line);
        prompt();
        return true;
    }

    // As lua.c: a statement left incomplete at the end is reported (its syntax error at <eof>).
    void end_of_input() {
        if (!chunk_.empty()) {
            set_prompt_waiting(false);
            lua_settop(L_, 0);
            report(L_, luaL_loadbuffer(L_, chunk_.data(), chunk_.size(), "=stdin"));
            lua_settop(L_, 0);
            chunk_.clear();
        }
        if (!editor_) std::fputs("\n", stdout);  // lua.c's lua_writeline
        std::fflush(stdout);
    }

    // lua.c's loadline, a line at a time: "=expr" and "return line;" first, then the line as a
    // statement, continued while it is incomplete.
    void take_line(const std::string& line) {
        set_prompt_waiting(false);
        lua_settop(L_, 0);
        int status = LUA_OK;
        if (chunk_.empty()) {
            std::string first = line.starts_with('=') ? "return " + line.substr(1) : line;
            std::string with_return = "return " + first + ";";
            status = luaL_loadbuffer(L_, with_return.data(), with_return.size(), "=stdin");
            if (status == LUA_OK) {
                if (!line.empty()) remember(line);
                execute();
                return;
            }
            lua_pop(L_, 1);
            chunk_ = first;
        } else {
            chunk_ += "\n" + line;
        }
        status = luaL_loadbuffer(L_, chunk_.data(), chunk_.size(), "=stdin");
        if (incomplete(L_, status)) {
            set_prompt_waiting(true);
            return;  // the next line continues it
        }
        remember(chunk_);
        chunk_.clear();
        if (status == LUA_OK) {
            execute();
        } else {
            report(L_, status);
            after_lua();
        }
    }

    // Runs the chunk on the stack and prints its results (lua.c's doREPL body).
    void execute() {
        if (report(L_, docall(L_, 0, LUA_MULTRET)) == LUA_OK) print_results(L_);
        after_lua();
    }

    void after_lua() {
        lua_settop(L_, 0);
        std::fflush(stdout);
        rearm_interactive_sigint();
        set_prompt_waiting(true);
    }

    void remember(const std::string& line) {
        if (editor_) editor_->remember(line);
    }

    lua_State* L_;
    std::unique_ptr<line_editor> editor_;
    plain_lines plain_;
    std::string chunk_;  // an incomplete statement's lines so far
};

}  // namespace

int run_repl(lua_State* L) {
    take_sigint_interactively();
    rearm_interactive_sigint();
    set_prompt_waiting(true);
    report_without_progname();
    repl session{L};
    int status = session.run();
    set_prompt_waiting(false);
    return status;
}

}  // namespace mockit::app
