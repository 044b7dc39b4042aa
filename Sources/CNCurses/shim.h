// ncurses for Swift: the wide-character API needs these two defines before the header, and
// SwiftPM drops them as unsafe flags from a package, so they live here.
#ifndef SKEIN_CNCURSES_SHIM_H
#define SKEIN_CNCURSES_SHIM_H

#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>

// Macros and globals Swift cannot import (or, in Swift 6, may not touch as globals).
static inline WINDOW *skein_stdscr(void) { return stdscr; }
static inline int skein_lines(void) { return LINES; }
static inline int skein_cols(void) { return COLS; }
static inline int skein_colors(void) { return COLORS; }
static inline int skein_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t skein_color_pair(int pair) { return COLOR_PAIR(pair); }
static inline attr_t skein_a_bold(void) { return A_BOLD; }
static inline attr_t skein_a_reverse(void) { return A_REVERSE; }
static inline attr_t skein_a_normal(void) { return A_NORMAL; }
static inline int skein_key_resize(void) { return KEY_RESIZE; }
static inline FILE *skein_stdout(void) { return stdout; }
static inline FILE *skein_stdin(void) { return stdin; }
// nl_langinfo's CODESET is an enum constant behind a same-named macro; read it here.
static inline const char *skein_codeset(void) { return nl_langinfo(CODESET); }
// Columns a character takes in the current locale (-1 when it is not printable there).
static inline int skein_wcwidth(wchar_t character) { return wcwidth(character); }

#endif
