/// How many colors the terminal shows, from none to 24-bit.
public enum ColorDepth: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
  /// No colors: the terminal's own foreground and background, with bold and reverse.
  case monochrome
  /// The eight basic colors.
  case ansi8
  /// The eight basic colors and their bright variants.
  case ansi16
  /// The xterm 256-color palette: the 16, a 6×6×6 cube and 24 greys.
  case palette256
  /// Any 24-bit color (a terminfo entry with `RGB`, such as `xterm-direct`).
  case direct

  /// The depth a terminal with `colors` colors (curses' `COLORS`) has.
  ///
  /// Only a terminfo entry that declares 2^24 colors gets ``direct``: curses then takes
  /// `0xRRGGBB` as the color number. `COLORTERM=truecolor` with a 256-color entry is not
  /// enough, since curses would still send palette indices.
  ///
  /// - Parameter colors: The terminal's color count; 0 or less for none.
  public init(colors: Int) {
    switch colors {
    case (1 << 24)...: self = .direct
    case 256...: self = .palette256
    case 16...: self = .ansi16
    case 8...: self = .ansi8
    default: self = .monochrome
    }
  }

  /// The depth to draw with: ``monochrome`` when `NO_COLOR` is set to anything (see
  /// no-color.org), else what the terminal's color count allows.
  ///
  /// - Parameters:
  ///   - colors: The terminal's color count (curses' `COLORS`, 0 without colors).
  ///   - environment: The process environment.
  /// - Returns: The depth.
  public static func detect(colors: Int, environment: [String: String]) -> ColorDepth {
    environment["NO_COLOR"] != nil ? .monochrome : ColorDepth(colors: colors)
  }

  /// Orders depths from fewest colors to most.
  public static func < (left: ColorDepth, right: ColorDepth) -> Bool {
    left.rawValue < right.rawValue
  }

  /// `monochrome`, `8`, `16`, `256` or `direct`.
  public var description: String {
    switch self {
    case .monochrome: "monochrome"
    case .ansi8: "8"
    case .ansi16: "16"
    case .palette256: "256"
    case .direct: "direct"
    }
  }
}
