/// The characters the dashboard draws with: Unicode box, block and braille characters, or a
/// plain-ASCII set for terminals without UTF-8 (and `--ascii`).
public struct Glyphs: Sendable, Hashable {
  /// Between a route's caller and callee.
  public var arrow: String
  /// A horizontal rule.
  public var horizontal: Character
  /// A vertical rule.
  public var vertical: Character
  /// Sparkline levels, lowest first.
  public var levels: [Character]
  /// A full bar cell.
  public var bar: Character
  /// Whether graphs use braille (2×4 dots a cell) rather than one level a cell.
  public var braille: Bool
  /// Marks a task count that climbs.
  public var climbing: String

  /// Unicode.
  public static let unicode = Glyphs(
    arrow: "→",
    horizontal: "─",
    vertical: "│",
    levels: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
    bar: "█",
    braille: true,
    climbing: "▲"
  )

  /// Plain ASCII.
  public static let ascii = Glyphs(
    arrow: "->",
    horizontal: "-",
    vertical: "|",
    levels: [".", ":", "-", "=", "+", "*", "#", "@"],
    bar: "#",
    braille: false,
    climbing: "^"
  )

  /// A sparkline of `values` in `width` cells, the newest on the right; levels are relative
  /// to the largest value shown.
  public func sparkline(_ values: [Double], width: Int) -> String {
    guard width > 0 else { return "" }
    let shown = values.suffix(width)
    let top = shown.max() ?? 0
    let line = shown.map { value -> Character in
      guard top > 0, value > 0 else { return " " }
      let level = Int((value / top * Double(levels.count - 1)).rounded())
      return levels[max(0, min(levels.count - 1, level))]
    }
    return String(repeating: " ", count: width - line.count) + String(line)
  }

  /// Rows of a graph of `values` (newest on the right) in `width` × `height` cells, the top
  /// row first, scaled to `top`: braille doubles the resolution both ways, else one level per
  /// cell column.
  public func graph(_ values: [Double], width: Int, height: Int, top: Double) -> [String] {
    guard width > 0, height > 0 else { return [] }
    let scale = top > 0 ? top : 1
    if braille {
      let shown = Array(values.suffix(width * 2))
      let dotRows = height * 4
      var cells = Array(repeating: Array(repeating: UInt32(0), count: width), count: height)
      let offset = width * 2 - shown.count
      for (index, value) in shown.enumerated() {
        let x = offset + index
        let filled = Int((min(value, scale) / scale * Double(dotRows)).rounded())
        for dot in 0..<filled {
          let y = dotRows - 1 - dot
          cells[y / 4][x / 2] |= Self.brailleBit(column: x % 2, row: y % 4)
        }
      }
      return cells.map { row in
        String(String.UnicodeScalarView(row.map { Unicode.Scalar(0x2800 + $0) ?? " " }))
      }
    }
    let shown = Array(values.suffix(width))
    let offset = width - shown.count
    return (0..<height).map { row in
      let threshold = Double(height - row) / Double(height)
      return String(
        (0..<width).map { column -> Character in
          guard column >= offset else { return " " }
          return min(shown[column - offset], scale) / scale >= threshold - 0.5 / Double(height)
            ? bar : " "
        }
      )
    }
  }

  /// The bit of a braille cell's dot at `column` (0–1) and `row` (0–3).
  static func brailleBit(column: Int, row: Int) -> UInt32 {
    switch (column, row) {
    case (0, 3): 0x40
    case (1, 3): 0x80
    case (0, _): 1 << UInt32(row)
    default: 1 << UInt32(row + 3)
    }
  }
}
