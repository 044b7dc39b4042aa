import Foundation
import SkeinDashboard
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A real curses screen on `/dev/null`: opening, drawing, changing theme and closing work and
/// write what they should; a signal gives the terminal back. Serialized, because curses has one
/// screen per process.
@Suite(.serialized) struct CursesTerminalTests {
  @Test func aDirectColorTerminalGetsTheThemesOwnColors() throws {
    // xterm-direct's terminfo comes with Debian's ncurses-term (.ci/run installs it).
    guard
      FileManager.default.fileExists(atPath: "/usr/share/terminfo/x/xterm-direct")
        || FileManager.default.fileExists(atPath: "/lib/terminfo/x/xterm-direct")
    else {
      #expect(ProcessInfo.processInfo.environment["SKEIN_REQUIRE_INTEGRATION"] != "1")
      print("skipped: no xterm-direct terminfo entry (Debian's ncurses-term)")
      return
    }
    let terminal = try CursesTerminal.headless(theme: .default, terminalType: "xterm-direct")
    defer { terminal.close() }
    let expected = ColorDepth.detect(
      colors: 1 << 24,
      environment: ProcessInfo.processInfo.environment
    )
    #expect(terminal.depth == expected)
    var frame = ScreenBuffer(width: 80, height: 24)
    frame.put("bad", x: 0, y: 0, style: CellStyle(.bad))
    terminal.draw(frame)
    let palette = RolePalette(theme: .default, depth: terminal.depth)
    #expect(terminal.cellOnScreen(x: 0, y: 0).pair == palette[.bad].pair)
    if expected == .direct {
      // The theme's #ff5f5f itself, not its nearest palette entry.
      #expect(ColorResolver(depth: .direct).resolve(Theme.default[.bad]).number == 0xff5f5f)
    }
  }

  @Test func aHeadlessScreenDrawsChangesThemeAndCloses() throws {
    let crashSignals = [SIGTERM, SIGINT, SIGSEGV, SIGILL, SIGTRAP]
    let before = crashSignals.map(handler(of:))
    let terminal: CursesTerminal
    do {
      terminal = try CursesTerminal.headless(theme: .default, terminalType: "xterm-256color")
    } catch {
      // Only a missing terminfo entry (no ncurses-base) ends up here.
      print("skipped: no headless curses screen here: \(error)")
      return
    }
    defer { terminal.close() }
    for (signal, previous) in zip(crashSignals, before) {
      #expect(handler(of: signal) != previous, "signal \(signal) restores the terminal")
    }
    #expect(throws: TerminalError.self, "one screen at a time") {
      try CursesTerminal.headless(theme: .default, terminalType: "xterm-256color")
    }
    // terminfo's xterm-256color is 80×24 when the output is not a terminal.
    #expect(terminal.size == (width: 80, height: 24))
    let expectedDepth = ColorDepth.detect(
      colors: 256,
      environment: ProcessInfo.processInfo.environment
    )
    #expect(terminal.depth == expectedDepth)

    // Larger than the screen on purpose: drawing clips instead of failing.
    var frame = ScreenBuffer(width: 100, height: 30)
    frame.put("OK", x: 0, y: 0, style: CellStyle(.ok, bold: true))
    frame.put("sel", x: 3, y: 1, style: CellStyle(.selection), limit: 3)
    frame.put("Z", x: 79, y: 23, style: CellStyle(.bad), limit: 1)
    frame.put("\u{7}", x: 5, y: 2, limit: 1)
    frame.put("█", x: 6, y: 2, limit: 1)
    terminal.draw(frame)

    let palette = RolePalette(theme: .default, depth: terminal.depth)
    let ok = terminal.cellOnScreen(x: 0, y: 0)
    #expect(ok.character == "O")
    #expect(ok.pair == palette[.ok].pair)
    #expect(ok.bold)
    let selection = terminal.cellOnScreen(x: 4, y: 1)
    #expect(selection.character == "e")
    #expect(selection.pair == palette[.selection].pair)
    #expect(selection.reverse == palette[.selection].reverse)
    #expect(terminal.cellOnScreen(x: 79, y: 23).character == "Z")
    #expect(terminal.cellOnScreen(x: 5, y: 2).character == " ", "control characters are blanked")
    let unicodeLocale = String(cString: nl_langinfo(nl_item(CODESET))) == "UTF-8"
    #expect(terminal.unicode == unicodeLocale)
    #expect(terminal.cellOnScreen(x: 6, y: 2).character == (unicodeLocale ? "█" : "?"))
    #expect(terminal.nextKey(timeout: 0) == nil, "nothing to read from /dev/null")

    let monochrome = try #require(ThemeCatalog.builtIn.theme(named: "monochrome"))
    terminal.setTheme(monochrome)
    #expect(terminal.theme == monochrome)
    terminal.draw(frame)
    // Same colors as plain text now, so the selection shows reversed.
    #expect(terminal.cellOnScreen(x: 4, y: 1).reverse)

    terminal.close()
    terminal.close()
    #expect(crashSignals.map(handler(of:)) == before, "the previous handlers are back")
    terminal.draw(frame)
    #expect(terminal.nextKey(timeout: 0) == nil)
    // Closing freed the screen: another can open.
    let ascii = try CursesTerminal.headless(
      theme: .default,
      terminalType: "xterm-256color",
      forceASCII: true
    )
    defer { ascii.close() }
    #expect(!ascii.unicode)
    ascii.draw(frame)
    #expect(ascii.cellOnScreen(x: 6, y: 2).character == "?", "nothing beyond ASCII")
    #expect(ascii.cellOnScreen(x: 0, y: 0).character == "O")
  }

  @Test func aSignalRestoresTheTerminalAndStillEndsTheProcess() throws {
    for number in [SIGTERM, SIGSEGV, SIGTRAP] {
      let output = FileManager.default.temporaryDirectory
        .appending(path: "skein-terminal-\(UUID().uuidString)").path
      defer { try? FileManager.default.removeItem(atPath: output) }
      let child = fork()
      if child == 0 {
        // The test runner's threads block SIGTERM; a process being killed would not.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, number)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        // The default action to hand the signal on to, not the Swift runtime's backtracer.
        _ = signal(number, SIG_DFL)
        guard
          let terminal = try? CursesTerminal.headless(
            theme: .default,
            terminalType: "xterm-256color",
            outputPath: output
          )
        else { _exit(42) }
        withExtendedLifetime(terminal) { _ = raise(number) }
        _exit(43)
      }
      try #require(child > 0)
      let status = try waitForExit(of: child)
      if status >> 8 & 0xff == 42 {
        print("skipped: no headless curses screen here")
        return
      }
      #expect(status & 0x7f == number, "the child dies of signal \(number), status \(status)")
      let written = try String(contentsOfFile: output, encoding: .isoLatin1)
      let enter = try #require(written.range(of: "\u{1b}[?1049h"), "curses took the screen")
      // xterm-256color's rmcup: endwin gave the screen back before the process ended.
      #expect(written[enter.upperBound...].contains("\u{1b}[?1049l"), "signal \(number)")
    }
  }

  /// Waits up to 10 s for `child` to end, then kills it, so a stuck child fails the test
  /// instead of hanging it.
  private func waitForExit(of child: pid_t) throws -> Int32 {
    var status: Int32 = 0
    for _ in 0..<200 {
      if waitpid(child, &status, WNOHANG) == child { return status }
      usleep(50_000)
    }
    kill(child, SIGKILL)
    waitpid(child, &status, 0)
    Issue.record("the child did not end within 10 s")
    return status
  }

  /// The address of the handler `signal` has now (0 for the default action).
  private func handler(of signal: Int32) -> Int {
    var action = sigaction()
    sigaction(signal, nil, &action)
    #if canImport(Glibc)
      return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
    #else
      return unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
    #endif
  }
}
