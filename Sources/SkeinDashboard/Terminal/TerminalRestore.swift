import CNCurses
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Puts the terminal back when the process dies with a curses screen open.
///
/// Without this, a crash or a `kill` leaves the user's shell in raw mode with no echo and no
/// cursor. The handlers call `endwin` once and then hand the signal on with the disposition it
/// had before (the default action unless someone, such as a service group or the Swift
/// runtime's backtracer, set one), so the process still dies, dumps core or shuts down as it
/// would have. `endwin` is not on POSIX's list of async-signal-safe functions; the state is an
/// atomic so at least the handler and ``CursesTerminal/close()`` never both call it, and a
/// second signal does nothing more.
///
/// SIGINT is handled too: in raw mode Ctrl-C arrives as a key, so SIGINT only comes from
/// `kill`, and it must not leave the terminal raw either.
enum TerminalRestore {
  /// The signals that end the process (or ask it to end) while the screen is up: termination
  /// requests and the crash signals (a Swift runtime trap raises SIGILL or SIGTRAP).
  static let signals: [Int32] = [
    SIGTERM, SIGHUP, SIGINT, SIGSEGV, SIGABRT, SIGILL, SIGBUS, SIGFPE, SIGTRAP,
  ]

  /// No curses screen is open.
  static let closed = 0
  /// A screen is open: a signal ends it.
  static let open = 1
  /// The screen was ended (by a signal or `close`) and not yet released.
  static let ended = 2

  /// Whether a screen is open; one at a time in the process, since curses has one `stdscr`.
  static let state = Atomic<Int>(closed)

  /// Marks a screen as being opened and records the signals' dispositions, or returns
  /// `false` when a screen is already open.
  ///
  /// The dispositions are read before curses starts because `newterm` installs handlers of
  /// its own for SIGINT and SIGTERM (when they have the default action) that end the process
  /// with `exit` from inside the handler; ours replace them, and closing restores what the
  /// process had before curses, not curses' handlers for a screen that is gone.
  static func claim() -> Bool {
    guard
      state.compareExchange(expected: closed, desired: ended, ordering: .sequentiallyConsistent)
        .exchanged
    else { return false }
    for signal in signals { sigaction(signal, nil, previousActions + Int(signal)) }
    return true
  }

  /// Marks the claimed screen open and installs the handlers.
  static func opened() {
    state.store(open, ordering: .sequentiallyConsistent)
    for signal in signals {
      var action = sigaction()
      #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = endScreenAndReraise
      #else
        action.__sigaction_u.__sa_handler = endScreenAndReraise
      #endif
      sigemptyset(&action.sa_mask)
      action.sa_flags = 0
      sigaction(signal, &action, nil)
    }
  }

  /// Ends the screen unless a signal already did; `true` when this call ended it.
  static func end() -> Bool {
    state.compareExchange(expected: open, desired: ended, ordering: .sequentiallyConsistent)
      .exchanged
  }

  /// Restores the handlers that were there before and frees the slot for another screen.
  static func released() {
    for signal in signals { sigaction(signal, previousActions + Int(signal), nil) }
    state.store(closed, ordering: .sequentiallyConsistent)
  }

  /// Whether the screen is up and may be drawn on: after a signal ended it, drawing would
  /// bring curses back into the restored terminal.
  static var isOpen: Bool { state.load(ordering: .sequentiallyConsistent) == open }

  /// The dispositions the handlers replaced, by signal number. A raw buffer that lives for
  /// the process so the handler reads it without reference counting or exclusivity checks.
  nonisolated(unsafe) static let previousActions = UnsafeMutablePointer<sigaction>.allocate(
    capacity: 65
  )
}

/// The handler: end the screen once, restore the signal's previous disposition and raise it
/// again. The signal is blocked while its handler runs, so the raised one is delivered as the
/// handler returns (and a crash's faulting instruction faults again) under that disposition.
private func endScreenAndReraise(_ signal: Int32) {
  if TerminalRestore.end() { endwin() }
  sigaction(signal, TerminalRestore.previousActions + Int(signal), nil)
  raise(signal)
}
