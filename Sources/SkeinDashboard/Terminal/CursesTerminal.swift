import CNCurses
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The real screen: copies ``ScreenBuffer`` frames to the terminal through ncurses and reads
/// keys from it.
///
/// Not thread-safe, by design: ncurses is not (not even its threaded build), so the dashboard
/// creates, uses and closes a terminal on one dedicated thread, fed by the model through a
/// queue; no other thread may call it. Only one terminal can be open in a process at a time,
/// since curses has one screen.
///
/// Opening it switches the terminal to raw mode (Ctrl-C arrives as ``Key/interrupt``), hides
/// the cursor and sets up colors for its ``Theme`` at its ``ColorDepth``. ``close()`` gives the
/// terminal back; so do termination and crash signals, through handlers installed while the
/// screen is open (see `TerminalRestore`).
public final class CursesTerminal {
  /// The depth colors are drawn with.
  public let depth: ColorDepth
  /// Whether the terminal takes UTF-8 (and ASCII was not forced): the layout may draw box,
  /// block and braille characters. Without it, characters beyond ASCII are drawn as `?`.
  public let unicode: Bool
  /// The theme colors come from.
  public private(set) var theme: Theme

  private let screen: OpaquePointer
  private let ownedStreams: [UnsafeMutablePointer<FILE>]
  private let terminalDefaultColors: Bool
  private var palette: RolePalette
  private var closed = false

  /// Opens the terminal on standard input and output.
  ///
  /// Like curses' `initscr` (the locale from the environment, raw mode, no echo, keypad on,
  /// no cursor, a 25 ms escape delay so Esc feels instant, and default colors when the
  /// terminal has colors), but through `newterm` so a terminal curses cannot drive is an error
  /// instead of an exit.
  ///
  /// - Parameters:
  ///   - theme: The colors to draw with.
  ///   - depth: The color depth to use, at most what the terminal has; `nil` detects it from
  ///     the terminal and `NO_COLOR` (``ColorDepth/detect(colors:environment:)``).
  ///   - forceASCII: Draw ASCII only, even on a UTF-8 terminal.
  /// - Throws: ``TerminalError`` when curses cannot open the terminal or a terminal is open.
  public convenience init(
    theme: Theme,
    depth: ColorDepth? = nil,
    forceASCII: Bool = false
  ) throws(TerminalError) {
    try self.init(
      theme: theme,
      depth: depth,
      forceASCII: forceASCII,
      terminalType: nil,
      output: skein_stdout(),
      input: skein_stdin(),
      ownedStreams: []
    )
  }

  /// A terminal of `terminalType` that writes to `outputPath` and reads from `/dev/null`: a
  /// real curses screen without a terminal, for tests.
  ///
  /// - Parameters:
  ///   - theme: The colors to draw with.
  ///   - depth: The color depth; `nil` detects it.
  ///   - terminalType: A terminfo name, such as `xterm-256color`.
  ///   - outputPath: Where curses' output goes.
  ///   - forceASCII: Draw ASCII only.
  /// - Throws: ``TerminalError`` when the files cannot be opened, curses does not know the
  ///   terminal type, or a terminal is open.
  package static func headless(
    theme: Theme,
    depth: ColorDepth? = nil,
    terminalType: String,
    outputPath: String = "/dev/null",
    forceASCII: Bool = false
  ) throws(TerminalError) -> CursesTerminal {
    guard let output = fopen(outputPath, "w") else {
      throw TerminalError("cannot open \(outputPath)")
    }
    guard let input = fopen("/dev/null", "r") else {
      fclose(output)
      throw TerminalError("cannot open /dev/null")
    }
    return try CursesTerminal(
      theme: theme,
      depth: depth,
      forceASCII: forceASCII,
      terminalType: terminalType,
      output: output,
      input: input,
      ownedStreams: [output, input]
    )
  }

  private init(
    theme: Theme,
    depth: ColorDepth?,
    forceASCII: Bool,
    terminalType: String?,
    output: UnsafeMutablePointer<FILE>,
    input: UnsafeMutablePointer<FILE>,
    ownedStreams: [UnsafeMutablePointer<FILE>]
  ) throws(TerminalError) {
    guard TerminalRestore.claim() else {
      ownedStreams.forEach { fclose($0) }
      throw TerminalError("a terminal is already open in this process")
    }
    // The locale decides whether curses reads and writes UTF-8; it must be set before curses
    // starts.
    setlocale(LC_ALL, "")
    let opened: OpaquePointer? =
      if let terminalType {
        terminalType.withCString { newterm($0, output, input) }
      } else {
        newterm(nil, output, input)
      }
    guard let opened else {
      // Puts back what the process had, in case curses got as far as installing handlers.
      TerminalRestore.released()
      ownedStreams.forEach { fclose($0) }
      let type = terminalType ?? ProcessInfo.processInfo.environment["TERM"] ?? "(TERM not set)"
      throw TerminalError("curses cannot open the terminal of type \(type)")
    }
    screen = opened
    self.ownedStreams = ownedStreams
    TerminalRestore.opened()

    let window = skein_stdscr()
    raw()
    noecho()
    keypad(window, true)
    curs_set(0)
    set_escdelay(25)
    var defaultColors = false
    if has_colors() {
      start_color()
      defaultColors = use_default_colors() == OK
    }
    terminalDefaultColors = defaultColors
    let colors = has_colors() ? Int(skein_colors()) : 0
    self.depth =
      depth.map { min($0, ColorDepth(colors: colors)) }
      ?? ColorDepth.detect(colors: colors, environment: ProcessInfo.processInfo.environment)
    unicode = !forceASCII && String(cString: skein_codeset()) == "UTF-8"
    self.theme = theme
    palette = RolePalette(theme: theme, depth: self.depth, terminalDefaultColors: defaultColors)
    applyPalette()
  }

  deinit {
    close()
  }

  /// The screen's size now; it changes after ``Key/resize``.
  public var size: (width: Int, height: Int) {
    (Int(skein_cols()), Int(skein_lines()))
  }

  /// Draws `frame` from the top left corner, clipped to the screen, in one refresh.
  ///
  /// Every cell is written each frame and curses sends only what changed, so nothing
  /// flickers. Parts of the screen the frame does not cover show the theme's background.
  ///
  /// - Parameter frame: The frame.
  public func draw(_ frame: ScreenBuffer) {
    guard !closed, TerminalRestore.isOpen else { return }
    let window = skein_stdscr()
    werase(window)
    let rows = min(frame.height, Int(skein_lines()))
    let columns = min(frame.width, Int(skein_cols()))
    var cell = cchar_t()
    var text = [wchar_t](repeating: 0, count: Int(CCHARW_MAX) + 1)
    for y in 0..<max(0, rows) {
      for x in 0..<max(0, columns) {
        let source = frame[x, y]
        let paint = palette[source.style.role]
        var attributes = skein_a_normal()
        if source.style.bold || paint.bold { attributes |= skein_a_bold() }
        if source.style.reverse != paint.reverse { attributes |= skein_a_reverse() }
        fill(&text, with: source.character)
        setcchar(&cell, text, attributes, paint.pair, nil)
        // Writing the bottom right cell returns ERR (the cursor cannot move past it) after
        // the cell is written, so the result says nothing useful.
        mvwadd_wch(window, Int32(y), Int32(x), &cell)
      }
    }
    wnoutrefresh(window)
    doupdate()
  }

  /// Switches to `theme`: sets its color pairs up again; the next ``draw(_:)`` shows it.
  ///
  /// - Parameter theme: The new theme.
  public func setTheme(_ theme: Theme) {
    self.theme = theme
    palette = RolePalette(theme: theme, depth: depth, terminalDefaultColors: terminalDefaultColors)
    guard !closed, TerminalRestore.isOpen else { return }
    applyPalette()
  }

  /// Waits up to `milliseconds` for a key.
  ///
  /// - Parameter milliseconds: How long to wait; 0 only looks, a negative value waits for
  ///   ever.
  /// - Returns: The key, or `nil` when none came in time or it is one the dashboard does not
  ///   use.
  public func nextKey(timeout milliseconds: Int32) -> Key? {
    guard !closed, TerminalRestore.isOpen else { return nil }
    let window = skein_stdscr()
    wtimeout(window, milliseconds)
    var code: wint_t = 0
    let status = wget_wch(window, &code)
    return KeyDecoder.decode(status: status, code: UInt32(code))
  }

  /// Gives the terminal back: ends curses (once, even when called again or after a signal
  /// did it) and restores the signal handlers that were there before.
  public func close() {
    guard !closed else { return }
    closed = true
    if TerminalRestore.end() { endwin() }
    delscreen(screen)
    TerminalRestore.released()
    ownedStreams.forEach { fclose($0) }
  }

  /// What the screen holds at column `x`, row `y`: for tests to check what ``draw(_:)`` wrote.
  package func cellOnScreen(x: Int, y: Int) -> (
    character: Character?, pair: Int16, bold: Bool, reverse: Bool
  ) {
    var cell = cchar_t()
    mvwin_wch(skein_stdscr(), Int32(y), Int32(x), &cell)
    var text = [wchar_t](repeating: 0, count: Int(CCHARW_MAX) + 1)
    var attributes: attr_t = 0
    var pair: Int16 = 0
    getcchar(&cell, &text, &attributes, &pair, nil)
    let character = Unicode.Scalar(UInt32(bitPattern: text[0])).map(Character.init)
    return (
      character,
      pair,
      attributes & skein_a_bold() != 0,
      attributes & skein_a_reverse() != 0
    )
  }

  /// Sets up the palette's color pairs and the background `werase` fills with.
  private func applyPalette() {
    for (pair, foreground, background) in palette.pairs {
      init_extended_pair(pair, foreground, background)
    }
    wbkgdset(
      skein_stdscr(),
      chtype(UInt8(ascii: " ")) | skein_color_pair(Int32(palette[.normal].pair))
    )
  }

  /// Puts `character` into a null-terminated wide string, as `setcchar` takes it: its scalars
  /// when the terminal can show it, else `?`. Control characters become spaces, since curses
  /// would draw them as two columns (`^X`).
  private func fill(_ text: inout [wchar_t], with character: Character) {
    let scalars = character.unicodeScalars
    let first = scalars.first?.value ?? 32
    let drawable: [UInt32]
    if first < 32 || first == 127 {
      drawable = [32]
    } else if first < 128 {
      drawable = scalars.map(\.value)
    } else if unicode, skein_wcwidth(wchar_t(first)) == 1 {
      drawable = scalars.map(\.value)
    } else {
      drawable = [UInt32(UInt8(ascii: "?"))]
    }
    let count = min(drawable.count, text.count - 1)
    for index in 0..<count { text[index] = wchar_t(drawable[index]) }
    text[count] = 0
  }
}
