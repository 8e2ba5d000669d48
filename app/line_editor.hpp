// SPDX-License-Identifier: MIT
// The prompt's line editing on a terminal: libedit (BSD-licensed, so mockit-run stays MIT; GNU
// readline, which Debian's lua5.4 uses, is GPL), driven a character at a time (EL_UNBUFFERED) so
// that the loop keeps running while a line is typed: the REPL polls the terminal beside the
// loop's own wake-ups and calls read_available() when it is readable. Emacs key bindings,
// history (up and down arrows, ^R), and ~/.editrc, as libedit reads it.
//
// The terminal is in libedit's raw mode only between begin_line() and the line's end; the
// destructor, and an exit() from Lua code run meanwhile (os.exit in a callback), put back the
// settings it found.
#pragma once

#include <locale.h>

#include <string>

struct editline;
struct history;

namespace mockit::app {

class line_editor {
  public:
    // On standard input and output, which must be a terminal. `program` names the settings of
    // ~/.editrc that apply ("mockit-run:bind ..."). Throws std::runtime_error when libedit
    // cannot start.
    explicit line_editor(const char* program);
    ~line_editor();
    line_editor(const line_editor&) = delete;
    line_editor& operator=(const line_editor&) = delete;

    // Shows `prompt` and starts editing an empty line (raw mode).
    void begin_line(const std::string& prompt);

    struct outcome {
        enum kind { editing, line, end } what;  // end: ^D on an empty line, or input closed
        std::string text;                       // the line, without its newline
    };
    // Reads what the terminal has (call it when the terminal is readable): a key or a key
    // sequence. A line that ends, or the end, leaves the terminal as it was (cooked mode).
    outcome read_available();

    // Around output from Lua code while a line is edited (a timer's print): hide() erases the
    // prompt and the line from the screen and leaves the terminal as it was, show() draws them
    // again, the line and the cursor as they were.
    void hide();
    void show();

    // Drops the line being edited (SIGINT): shows "^C" after it, and starts an empty one.
    void drop_line();

    // Adds a line to the history.
    void remember(const std::string& line);

  private:
    static char* prompt_of(editline* el);
    void redraw();
    // The user's LC_CTYPE, for libedit only (uselocale around its calls): Lua keeps the "C"
    // locale, as under lua5.4, and UTF-8 is still edited as characters.
    class ctype_scope;

    editline* el_ = nullptr;
    history* history_ = nullptr;
    locale_t ctype_ = nullptr;
    std::string prompt_;
    bool editing_ = false;
    std::string hidden_;     // the line hide() took off the screen
    int hidden_cursor_ = 0;  // in characters
    int hidden_length_ = 0;
};

}  // namespace mockit::app
