/// One of the 16 colors every color terminal has, numbered as terminals number them.
public enum ANSIColor: Int, Sendable, Hashable, CaseIterable {
  /// Black (0).
  case black
  /// Red (1).
  case red
  /// Green (2).
  case green
  /// Yellow (3).
  case yellow
  /// Blue (4).
  case blue
  /// Magenta (5).
  case magenta
  /// Cyan (6).
  case cyan
  /// White (7): light grey on most terminals.
  case white
  /// Bright black (8): dark grey.
  case brightBlack
  /// Bright red (9).
  case brightRed
  /// Bright green (10).
  case brightGreen
  /// Bright yellow (11).
  case brightYellow
  /// Bright blue (12).
  case brightBlue
  /// Bright magenta (13).
  case brightMagenta
  /// Bright cyan (14).
  case brightCyan
  /// Bright white (15).
  case brightWhite

  /// The name a theme file uses: `red`, `bright-red`.
  public var name: String {
    let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
    return rawValue < 8 ? names[rawValue] : "bright-" + names[rawValue - 8]
  }

  /// The color of the same hue among the first eight, for terminals that have no bright ones.
  public var base: ANSIColor { ANSIColor(rawValue: rawValue % 8) ?? self }

  /// Whether this is one of the bright eight (8–15).
  public var isBright: Bool { rawValue >= 8 }

  /// The color with this name, if any.
  ///
  /// - Parameter name: A theme file's name for the color (`red`, `bright-red`).
  public init?(name: String) {
    guard let color = ANSIColor.allCases.first(where: { $0.name == name }) else { return nil }
    self = color
  }

  /// The color xterm shows by default. Terminals differ here, which is why a named color is
  /// sent as its number wherever the terminal can take it; these values only serve to find the
  /// nearest named color to a `#rrggbb` and to send named colors to direct-color terminals.
  public var xtermRGB: (red: UInt8, green: UInt8, blue: UInt8) {
    let table: [(UInt8, UInt8, UInt8)] = [
      (0x00, 0x00, 0x00), (0xcd, 0x00, 0x00), (0x00, 0xcd, 0x00), (0xcd, 0xcd, 0x00),
      (0x00, 0x00, 0xee), (0xcd, 0x00, 0xcd), (0x00, 0xcd, 0xcd), (0xe5, 0xe5, 0xe5),
      (0x7f, 0x7f, 0x7f), (0xff, 0x00, 0x00), (0x00, 0xff, 0x00), (0xff, 0xff, 0x00),
      (0x5c, 0x5c, 0xff), (0xff, 0x00, 0xff), (0x00, 0xff, 0xff), (0xff, 0xff, 0xff),
    ]
    let (red, green, blue) = table[rawValue]
    return (red, green, blue)
  }
}

/// A color as a theme file gives it: the terminal's own, a named color, or `#rrggbb`.
public enum ThemeColor: Sendable, Hashable, CustomStringConvertible {
  /// The terminal's own foreground or background (`default` or an empty value), so that
  /// transparent and custom-colored terminals keep their look.
  case terminalDefault
  /// One of the 16 named colors.
  case ansi(ANSIColor)
  /// A 24-bit color, mapped to the nearest color the terminal has.
  case rgb(red: UInt8, green: UInt8, blue: UInt8)

  /// The color a theme file's value names, or `nil` when the value is not a color.
  ///
  /// - Parameter value: `default`, an empty string, a name such as `bright-red`, or
  ///   `#rrggbb`; letters in any case.
  public init?(parsing value: String) {
    let value = value.lowercased()
    if value.isEmpty || value == "default" {
      self = .terminalDefault
    } else if let named = ANSIColor(name: value) {
      self = .ansi(named)
    } else if value.hasPrefix("#"), value.count == 7,
      value.dropFirst().allSatisfy(\.isHexDigit),
      let number = UInt32(value.dropFirst(), radix: 16)
    {
      self = .rgb(
        red: UInt8(truncatingIfNeeded: number >> 16),
        green: UInt8(truncatingIfNeeded: number >> 8),
        blue: UInt8(truncatingIfNeeded: number)
      )
    } else {
      return nil
    }
  }

  /// The color as a theme file writes it.
  public var description: String {
    switch self {
    case .terminalDefault: "default"
    case .ansi(let color): color.name
    case .rgb(let red, let green, let blue):
      "#"
        + [red, green, blue].map { byte in
          let digits = String(byte, radix: 16)
          return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
  }
}
