/// A color as curses takes it: a color number and whether the text must be bold to show it.
public struct TerminalColor: Sendable, Hashable {
  /// The color number: -1 for the terminal's own (curses' `use_default_colors`), 0–255 for
  /// palette colors, `0xRRGGBB` on direct-color terminals.
  public var number: Int32
  /// Whether text in this color is drawn bold: how 8-color terminals show bright colors.
  public var bold: Bool

  /// A color number, with bold when the color needs it.
  ///
  /// - Parameters:
  ///   - number: The color number.
  ///   - bold: Whether text in the color is drawn bold.
  public init(_ number: Int32, bold: Bool = false) {
    self.number = number
    self.bold = bold
  }

  /// The terminal's own color.
  public static let terminalDefault = TerminalColor(-1)
}

/// Maps a theme's colors to the colors a terminal of some ``ColorDepth`` has.
///
/// - `#rrggbb`: itself on direct-color terminals; the nearest of the xterm palette's cube and
///   greys on 256-color ones (not the first 16, which terminals redefine); the nearest of the
///   16 or 8 basic colors below that.
/// - A named color: its number, 0–15; on 8-color terminals a bright one is its base color in
///   bold. On direct-color terminals the bright ones are sent as their xterm RGB values,
///   because there curses reads numbers from 8 up as `0xRRGGBB`.
/// - `default`: -1, the terminal's own.
/// - Everything is the terminal's own in ``ColorDepth/monochrome``.
public struct ColorResolver: Sendable, Hashable {
  /// The depth colors are mapped to.
  public let depth: ColorDepth

  /// A resolver for `depth`.
  ///
  /// - Parameter depth: The terminal's color depth.
  public init(depth: ColorDepth) {
    self.depth = depth
  }

  /// The terminal color for `color`.
  ///
  /// - Parameter color: A theme's color.
  /// - Returns: What to give curses.
  public func resolve(_ color: ThemeColor) -> TerminalColor {
    switch (color, depth) {
    case (_, .monochrome), (.terminalDefault, _):
      return .terminalDefault
    case (.ansi(let named), .ansi8):
      return TerminalColor(Int32(named.base.rawValue), bold: named.isBright)
    case (.ansi(let named), .direct) where named.isBright:
      let (red, green, blue) = named.xtermRGB
      return TerminalColor(Self.direct(red: red, green: green, blue: blue))
    case (.ansi(let named), _):
      return TerminalColor(Int32(named.rawValue))
    case (.rgb(let red, let green, let blue), .direct):
      return TerminalColor(Self.direct(red: red, green: green, blue: blue))
    case (.rgb(let red, let green, let blue), .palette256):
      return TerminalColor(Self.nearestPaletteIndex(red: red, green: green, blue: blue))
    case (.rgb(let red, let green, let blue), .ansi16):
      return TerminalColor(
        Int32(Self.nearestANSI(red: red, green: green, blue: blue, count: 16).rawValue)
      )
    case (.rgb(let red, let green, let blue), .ansi8):
      return TerminalColor(
        Int32(Self.nearestANSI(red: red, green: green, blue: blue, count: 8).rawValue)
      )
    }
  }

  /// The channel levels of the xterm palette's 6×6×6 cube (indices 16–231).
  static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

  /// The index of the xterm 256-color palette entry nearest to an RGB color, among the cube
  /// (16–231) and the greys (232–255).
  ///
  /// - Parameters:
  ///   - red: Red, 0–255.
  ///   - green: Green, 0–255.
  ///   - blue: Blue, 0–255.
  /// - Returns: A palette index, 16–255.
  public static func nearestPaletteIndex(red: UInt8, green: UInt8, blue: UInt8) -> Int32 {
    let channels = [Int(red), Int(green), Int(blue)]
    // The cube is separable: the nearest entry has the nearest level in each channel.
    let levels = channels.map { value in
      cubeLevels.indices.min { abs(cubeLevels[$0] - value) < abs(cubeLevels[$1] - value) } ?? 0
    }
    let cube = (
      red: cubeLevels[levels[0]], green: cubeLevels[levels[1]], blue: cubeLevels[levels[2]]
    )
    let cubeIndex = 16 + 36 * levels[0] + 6 * levels[1] + levels[2]
    // Greys run 8, 18, …, 238: pick the one nearest the channels' mean.
    let mean = channels.reduce(0, +) / 3
    let greyStep = min(23, max(0, (mean - 8 + 5) / 10))
    let grey = 8 + 10 * greyStep
    let cubeDistance = distance(channels, [cube.red, cube.green, cube.blue])
    let greyDistance = distance(channels, [grey, grey, grey])
    return Int32(greyDistance < cubeDistance ? 232 + greyStep : cubeIndex)
  }

  /// How far apart a color's channels may be for it to count as a grey.
  static let greyChroma = 48

  /// The basic color nearest to an RGB color, by xterm's default values.
  ///
  /// A color with little chroma (its channels within ``greyChroma``) is matched among black,
  /// the greys and white only, any other among the colored ones and black: plain distance
  /// would send a mid grey such as `#808080` to yellow on 8 colors, and the `ok` green
  /// `#5fd75f` to grey, which would hide a state.
  ///
  /// - Parameters:
  ///   - red: Red, 0–255.
  ///   - green: Green, 0–255.
  ///   - blue: Blue, 0–255.
  ///   - count: 16 to choose among all, 8 for the first eight only.
  /// - Returns: The nearest color.
  public static func nearestANSI(red: UInt8, green: UInt8, blue: UInt8, count: Int) -> ANSIColor {
    let channels = [Int(red), Int(green), Int(blue)]
    let greys: Set<ANSIColor> = [.black, .white, .brightBlack, .brightWhite]
    let isGrey = (channels.max() ?? 0) - (channels.min() ?? 0) < greyChroma
    let candidates = ANSIColor.allCases.prefix(count).filter { color in
      color == .black || isGrey == greys.contains(color)
    }
    return candidates.min { left, right in
      let l = left.xtermRGB
      let r = right.xtermRGB
      return distance(channels, [Int(l.red), Int(l.green), Int(l.blue)])
        < distance(channels, [Int(r.red), Int(r.green), Int(r.blue)])
    } ?? .white
  }

  /// A color number for a direct-color terminal.
  ///
  /// Curses takes numbers below 8 there as the basic colors, so `#000000`–`#000007` would
  /// come out red, blue or white: they are sent as `#000008`, which looks the same.
  static func direct(red: UInt8, green: UInt8, blue: UInt8) -> Int32 {
    max(8, Int32(red) << 16 | Int32(green) << 8 | Int32(blue))
  }

  /// Squared Euclidean distance in RGB: crude next to a perceptual one, but predictable, and
  /// enough for themes written with the target palettes in mind.
  static func distance(_ left: [Int], _ right: [Int]) -> Int {
    zip(left, right).reduce(0) { sum, pair in sum + (pair.0 - pair.1) * (pair.0 - pair.1) }
  }
}
