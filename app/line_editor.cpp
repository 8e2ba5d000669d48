// SPDX-License-Identifier: MIT
#include "line_editor.hpp"

#include <histedit.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace mockit::app {
namespace {

// The terminal's settings before libedit's raw mode, put back by an exit() that comes while a
// line is edited: os.exit() in a callback that ran at the prompt ends the process with no
// destructor run, and a shell left in raw mode echoes nothing.
termios cooked{};
std::atomic<bool> raw{false};

void restore_terminal_at_exit() {
    if (raw.exchange(false)) tcsetattr(STDIN_FILENO, TCSADRAIN, &cooked);
}

// How many lines of the screen `columns` wide the text from column 0 to `width` spans, less one.
int rows_above(int width, int columns) {
    return columns > 0 ? width / columns : 0;
}

}  // namespace

class line_editor::ctype_scope {
  public:
    explicit ctype_scope(locale_t ctype) : previous_{ctype ? uselocale(ctype) : nullptr} {}
    ~ctype_scope() {
        if (previous_ != nullptr) uselocale(previous_);
    }
    ctype_scope(const ctype_scope&) = delete;
    ctype_scope& operator=(const ctype_scope&) = delete;

  private:
    locale_t previous_;
};

line_editor::line_editor(const char* program) {
    ctype_ = newlocale(LC_CTYPE_MASK, "", nullptr);  // nullptr: the "C" locale's ASCII, still fine
    ctype_scope scope{ctype_};
    tcgetattr(STDIN_FILENO, &cooked);
    static const bool registered = std::atexit(restore_terminal_at_exit) == 0;
    (void)registered;
    el_ = el_init(program, stdin, stdout, stderr);
    history_ = ::history_init();
    if (el_ == nullptr || history_ == nullptr) {
        if (el_ != nullptr) el_end(el_);
        if (history_ != nullptr) ::history_end(history_);
        if (ctype_ != nullptr) freelocale(ctype_);
        throw std::runtime_error("cannot start line editing (libedit)");
    }
    HistEvent event;
    ::history(history_, &event, H_SETSIZE, 1000);
    ::history(history_, &event, H_SETUNIQUE, 1);  // a line entered twice in a row is kept once
    el_set(el_, EL_CLIENTDATA, this);
    el_set(el_, EL_PROMPT, &line_editor::prompt_of);
    el_set(el_, EL_EDITOR, "emacs");
    el_set(el_, EL_HIST, ::history, history_);
    el_set(el_, EL_SIGNAL, 0);  // the host's SIGINT handler serves the prompt (host_signals)
    el_source(el_, nullptr);    // ~/.editrc
}

line_editor::~line_editor() {
    {
        ctype_scope scope{ctype_};
        if (editing_) el_set(el_, EL_UNBUFFERED, 0);  // cooked mode again
        raw.store(false);
        el_end(el_);
        ::history_end(history_);
    }
    if (ctype_ != nullptr) freelocale(ctype_);
}

char* line_editor::prompt_of(editline* el) {
    line_editor* self = nullptr;
    el_get(el, EL_CLIENTDATA, &self);
    return self->prompt_.data();
}

void line_editor::begin_line(const std::string& prompt) {
    ctype_scope scope{ctype_};
    prompt_ = prompt;
    raw.store(true);
    el_set(el_, EL_UNBUFFERED, 1);  // raw mode, an empty line, the prompt shown
    editing_ = true;
    hidden_.clear();
}

line_editor::outcome line_editor::read_available() {
    ctype_scope scope{ctype_};
    int count = 0;
    const char* text = el_gets(el_, &count);
    // A line is complete with its newline; ^D on an empty line is the ^D character alone (in
    // unbuffered mode); nullptr is the end of the input or a read error.
    bool eof = text == nullptr || count < 0 || (count == 1 && text[0] == '\x04');
    bool complete = !eof && count > 0 && (text[count - 1] == '\n' || text[count - 1] == '\r');
    if (!eof && !complete) return {outcome::editing, {}};
    outcome result{eof ? outcome::end : outcome::line,
                   eof ? std::string{} : std::string(text, static_cast<std::size_t>(count - 1))};
    if (text != nullptr && eof) {  // libedit shows the ^D it put in the line: take it back
        el_deletestr(el_, 1);
        redraw();
    }
    el_set(el_, EL_UNBUFFERED, 0);  // cooked mode while the line runs
    raw.store(false);
    editing_ = false;
    if (eof) std::fputs("\n", stdout);
    std::fflush(stdout);
    return result;
}

void line_editor::hide() {
    if (!editing_) return;
    ctype_scope scope{ctype_};
    const LineInfo* line = el_line(el_);
    hidden_.assign(line->buffer, line->lastchar);
    const LineInfoW* wide = el_wline(el_);  // the cursor in characters, as el_cursor counts
    hidden_cursor_ = static_cast<int>(wide->cursor - wide->buffer);
    hidden_length_ = static_cast<int>(wide->lastchar - wide->buffer);
    int columns = 0;
    el_get(el_, EL_GETTC, "co", &columns, nullptr);
    // Up to the prompt's first row, then erase from there to the end of the screen (VT100, as
    // every terminal emulator in use speaks).
    int up = rows_above(static_cast<int>(prompt_.size()) + hidden_cursor_, columns);
    if (up > 0) std::fprintf(stdout, "\033[%dA", up);
    std::fputs("\r\033[J", stdout);
    std::fflush(stdout);
    el_set(el_, EL_UNBUFFERED, 0);
    raw.store(false);
    editing_ = false;
}

void line_editor::show() {
    if (editing_) return;
    std::string line = hidden_;
    int cursor = hidden_cursor_, length = hidden_length_;
    begin_line(prompt_);
    if (line.empty()) return;
    ctype_scope scope{ctype_};
    el_insertstr(el_, line.c_str());
    el_cursor(el_, cursor - length);
    redraw();
}

// EL_REFRESH draws the prompt and the line from where the cursor is, taking the screen for blank:
// from the start of the prompt's line, so it draws over them.
void line_editor::redraw() {
    std::fputs("\r", stdout);
    std::fflush(stdout);
    el_set(el_, EL_REFRESH);
}

void line_editor::drop_line() {
    ctype_scope scope{ctype_};
    if (editing_) {
        const LineInfoW* wide = el_wline(el_);
        el_cursor(el_, static_cast<int>(wide->lastchar - wide->cursor));  // "^C" goes after it
        redraw();
        el_set(el_, EL_UNBUFFERED, 0);
        raw.store(false);
        editing_ = false;
    }
    std::fputs("^C\n", stdout);
    std::fflush(stdout);
}

void line_editor::remember(const std::string& line) {
    HistEvent event;
    ::history(history_, &event, H_ENTER, line.c_str());
}

}  // namespace mockit::app
