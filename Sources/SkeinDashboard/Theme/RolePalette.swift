/// How cells of one style role are drawn: a color pair and the attributes the role adds.
package struct RolePaint: Sendable, Hashable {
  /// The curses color pair; 0 (the terminal's own colors) in monochrome.
  package var pair: Int16
  /// The text color.
  package var foreground: TerminalColor
  /// The background color.
  package var background: TerminalColor
  /// Whether the role's text is bold (a bright color on 8 colors, or a title without color).
  package var bold: Bool
  /// Whether the role is drawn reversed (the selection without color).
  package var reverse: Bool
}

/// The color pairs and attributes of every style role, for a theme at a color depth: what
/// the terminal sets up when it opens or changes theme. Pure Swift, so tested without a
/// terminal.
package struct RolePalette: Sendable, Hashable {
  /// The depth the colors are resolved for.
  package let depth: ColorDepth
  /// The paint of each role.
  package let paints: [StyleRole: RolePaint]

  /// The palette of `theme` at `depth`.
  ///
  /// Each role gets its own pair (1, 2, … in `StyleRole.allCases` order; 14 fit in the 64
  /// pairs of the smallest color terminals). Where a role would look the same as plain text
  /// (always in monochrome, and with themes such as `monochrome`), the selection is drawn
  /// reversed and titles and the header bold, so they still read.
  ///
  /// - Parameters:
  ///   - theme: The theme.
  ///   - depth: The terminal's depth.
  ///   - terminalDefaultColors: Whether the terminal takes -1 for its own colors (curses'
  ///     `use_default_colors` succeeded); if not, they become white on black.
  package init(theme: Theme, depth: ColorDepth, terminalDefaultColors: Bool = true) {
    self.depth = depth
    let resolver = ColorResolver(depth: depth)
    func resolve(_ color: ThemeColor, fallback: Int32) -> TerminalColor {
      let resolved = resolver.resolve(color)
      return resolved.number < 0 && !terminalDefaultColors ? TerminalColor(fallback) : resolved
    }
    func colors(_ role: StyleRole) -> (TerminalColor, TerminalColor) {
      let (foreground, background) = theme.colors(for: role)
      return (
        resolve(foreground, fallback: Int32(ANSIColor.white.rawValue)),
        resolve(background, fallback: Int32(ANSIColor.black.rawValue))
      )
    }
    let plain = colors(.normal)
    var paints: [StyleRole: RolePaint] = [:]
    for (index, role) in StyleRole.allCases.enumerated() {
      let (foreground, background) = colors(role)
      let looksPlain =
        foreground.number == plain.0.number && background.number == plain.1.number
      paints[role] = RolePaint(
        pair: depth == .monochrome ? 0 : Int16(index + 1),
        foreground: foreground,
        background: background,
        bold: foreground.bold || (looksPlain && (role == .title || role == .header)),
        reverse: looksPlain && role == .selection
      )
    }
    self.paints = paints
  }

  /// The paint of `role`.
  package subscript(role: StyleRole) -> RolePaint {
    paints[role]
      ?? RolePaint(
        pair: 0,
        foreground: .terminalDefault,
        background: .terminalDefault,
        bold: false,
        reverse: false
      )
  }

  /// The pairs to set up with curses' `init_extended_pair`: none in monochrome.
  package var pairs: [(pair: Int32, foreground: Int32, background: Int32)] {
    StyleRole.allCases.compactMap { role in
      let paint = self[role]
      guard paint.pair > 0 else { return nil }
      return (Int32(paint.pair), paint.foreground.number, paint.background.number)
    }
  }
}
