/// A dashboard color scheme: a name and a color for each key of a theme file.
///
/// Theme files live in `themes/` folders, one `key = color` a line (see ``Theme/parse(_:file:)``
/// and ``ThemeCatalog``). A theme says nothing about what the terminal can show: a
/// ``ColorResolver`` maps its colors to the terminal's for a ``ColorDepth``.
public struct Theme: Sendable, Hashable {
  /// A key of a theme file that holds a color.
  public enum ColorKey: String, Sendable, Hashable, CaseIterable {
    /// The screen's background, behind every role without a background of its own.
    case background
    /// Plain text.
    case foreground
    /// Secondary text.
    case muted
    /// Frames and separators.
    case border
    /// Titles.
    case title
    /// The header bar's background.
    case headerBackground = "header.background"
    /// The header bar's text.
    case headerForeground = "header.foreground"
    /// The selected row's background.
    case selectionBackground = "selection.background"
    /// The selected row's text.
    case selectionForeground = "selection.foreground"
    /// A healthy state.
    case ok
    /// A state to watch.
    case warn
    /// A bad state.
    case bad
    /// Emphasis.
    case accent
    /// Graphs.
    case graph
    /// The high part of graphs.
    case graphHigh = "graph.high"
    /// A key in the hints bar.
    case hintKey = "hint.key"
    /// A key's description in the hints bar.
    case hintText = "hint.text"
  }

  /// The key of a theme file that holds the theme's name.
  public static let nameKey = "name"

  /// The theme's name, as ``ThemeCatalog`` finds it and the dashboard shows it.
  public var name: String
  /// A color for every ``ColorKey``.
  public private(set) var colors: [ColorKey: ThemeColor]

  /// A theme named `name` with `colors`; keys it lacks take the ``default`` theme's colors.
  ///
  /// - Parameters:
  ///   - name: The theme's name.
  ///   - colors: Colors by key.
  public init(name: String, colors: [ColorKey: ThemeColor]) {
    self.init(name: name, colors: colors, base: Theme.default.colors)
  }

  /// A theme with `colors`, the keys it lacks taken from `base`.
  init(name: String, colors: [ColorKey: ThemeColor], base: [ColorKey: ThemeColor]) {
    self.name = name
    self.colors = base.merging(colors) { _, own in own }
  }

  /// The color of `key`.
  public subscript(key: ColorKey) -> ThemeColor {
    get { colors[key] ?? .terminalDefault }
    set { colors[key] = newValue }
  }

  /// The foreground and background a cell of `role` is drawn in.
  ///
  /// - Parameter role: A style role of the screen.
  /// - Returns: The role's text color and the background behind it: its own for the header
  ///   and the selection, the screen's `background` for the others.
  public func colors(for role: StyleRole) -> (foreground: ThemeColor, background: ThemeColor) {
    let foreground: ColorKey
    switch role {
    case .normal: foreground = .foreground
    case .muted: foreground = .muted
    case .border: foreground = .border
    case .title: foreground = .title
    case .header: return (self[.headerForeground], self[.headerBackground])
    case .selection: return (self[.selectionForeground], self[.selectionBackground])
    case .ok: foreground = .ok
    case .warn: foreground = .warn
    case .bad: foreground = .bad
    case .accent: foreground = .accent
    case .graph: foreground = .graph
    case .graphHigh: foreground = .graphHigh
    case .hintKey: foreground = .hintKey
    case .hintText: foreground = .hintText
    }
    return (self[foreground], self[.background])
  }

  /// The built-in `default` theme (`themes/default.theme`): what keys missing from a theme
  /// file fall back to.
  public static let `default`: Theme = {
    let terminalOwn = Dictionary(
      uniqueKeysWithValues: ColorKey.allCases.map { ($0, ThemeColor.terminalDefault) }
    )
    let file = ThemeCatalog.builtInFolder + "/default.theme"
    // The committed copy is checked by a test, so the fallback only guards against a broken
    // regeneration; it still gives a usable, colorless theme.
    return (try? parse(BuiltInThemes.files["default.theme"] ?? "", file: file, base: terminalOwn))
      ?? Theme(name: ThemeCatalog.defaultThemeName, colors: [:], base: terminalOwn)
  }()

  /// Reads a theme file.
  ///
  /// Lines are `key = color`; blank lines and lines starting with `#` are skipped. Keys are
  /// `name` and the raw values of ``ColorKey``; colors are what ``ThemeColor/init(parsing:)``
  /// reads. A missing or empty `name` is the file's name without `.theme`; missing colors are the
  /// ``default`` theme's.
  ///
  /// - Parameters:
  ///   - text: The file's contents.
  ///   - file: The file's path, for error messages.
  /// - Returns: The theme.
  /// - Throws: ``ThemeError`` listing every problem in the file, each with its line.
  public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
    try parse(text, file: file, base: Theme.default.colors)
  }

  static func parse(
    _ text: String,
    file: String,
    base: [ColorKey: ThemeColor]
  ) throws(ThemeError) -> Theme {
    var name: String?
    var colors: [ColorKey: ThemeColor] = [:]
    var firstLines: [String: Int] = [:]
    var problems: [ThemeError.Problem] = []
    // "\r\n" is one Character in Swift, so it is a separator of its own.
    let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    for (index, rawLine) in lines.enumerated() {
      let line = index + 1
      let content = rawLine.trimmingWhitespace()
      if content.isEmpty || content.hasPrefix("#") { continue }
      guard let equals = content.firstIndex(of: "=") else {
        problems.append(.init(file: file, line: line, key: content, kind: .missingEquals))
        continue
      }
      let key = content[..<equals].trimmingWhitespace()
      let value = content[content.index(after: equals)...].trimmingWhitespace()
      if let first = firstLines[key] {
        problems.append(
          .init(file: file, line: line, key: key, kind: .duplicateKey(firstLine: first))
        )
        continue
      }
      if key == nameKey {
        firstLines[key] = line
        name = value
      } else if let colorKey = ColorKey(rawValue: key) {
        firstLines[key] = line
        if let color = ThemeColor(parsing: value) {
          colors[colorKey] = color
        } else {
          problems.append(.init(file: file, line: line, key: key, kind: .badColor(value)))
        }
      } else {
        problems.append(.init(file: file, line: line, key: key, kind: .unknownKey))
      }
    }
    guard problems.isEmpty else { throw ThemeError(file: file, problems: problems) }
    let fileName = file.split(separator: "/").last.map(String.init) ?? file
    let stem = fileName.hasSuffix(".theme") ? String(fileName.dropLast(6)) : fileName
    return Theme(name: name.flatMap { $0.isEmpty ? nil : $0 } ?? stem, colors: colors, base: base)
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces, tabs and carriage returns.
  func trimmingWhitespace() -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isBlank($0) }),
      let last = lastIndex(where: { !isBlank($0) })
    else { return "" }
    return String(self[first...last])
  }
}
