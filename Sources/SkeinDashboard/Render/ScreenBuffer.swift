/// What a cell is drawn as: a role the theme gives colors, and attributes that read without
/// color (so a monochrome terminal still shows selection, titles and states).
public struct CellStyle: Sendable, Hashable {
  /// The theme role of the cell's colors.
  public var role: StyleRole
  /// Bold text.
  public var bold: Bool
  /// Foreground and background swapped: the selection in monochrome, for one.
  public var reverse: Bool

  /// A style of `role`.
  public init(_ role: StyleRole = .normal, bold: Bool = false, reverse: Bool = false) {
    self.role = role
    self.bold = bold
    self.reverse = reverse
  }

  /// The plain style.
  public static let normal = CellStyle()
}

/// The parts of the screen a theme colors; each reads its colors from the theme's keys.
public enum StyleRole: String, Sendable, Hashable, CaseIterable {
  /// Text: `foreground` on `background`.
  case normal
  /// Secondary text: `muted`.
  case muted
  /// Frames and separators: `border`.
  case border
  /// Titles: `title`.
  case title
  /// The header bar: `header.foreground` on `header.background`.
  case header
  /// The selected row: `selection.foreground` on `selection.background`.
  case selection
  /// A healthy state (closed breaker, low error rate): `ok`.
  case ok
  /// A state to watch (half-open, rising errors): `warn`.
  case warn
  /// A bad state (open breaker, high error rate, node down): `bad`.
  case bad
  /// Emphasis (a degrade marker, the filter): `accent`.
  case accent
  /// Graphs and sparklines: `graph`.
  case graph
  /// The high part of a graph: `graph.high`.
  case graphHigh
  /// A key in the hints bar: `hint.key`.
  case hintKey
  /// A key's description in the hints bar: `hint.text`.
  case hintText
}

/// One character cell.
public struct Cell: Sendable, Hashable {
  /// The character; one column wide.
  public var character: Character
  /// How it is drawn.
  public var style: CellStyle

  /// A cell.
  public init(_ character: Character = " ", _ style: CellStyle = .normal) {
    self.character = character
    self.style = style
  }
}

/// A frame: the grid of cells the layout draws into and the terminal copies to the screen in
/// one refresh. Pure Swift, so layouts are tested without a terminal.
public struct ScreenBuffer: Sendable, Hashable {
  /// Columns.
  public let width: Int
  /// Rows.
  public let height: Int
  /// The cells, row by row.
  public private(set) var cells: [Cell]

  /// A blank frame of `width` × `height`.
  public init(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
    cells = Array(repeating: Cell(), count: self.width * self.height)
  }

  /// The cell at column `x`, row `y`.
  public subscript(x: Int, y: Int) -> Cell {
    get { cells[y * width + x] }
    set { cells[y * width + x] = newValue }
  }

  /// Writes `text` from column `x` of row `y`, clipped to `limit` columns and to the frame;
  /// returns the columns written. Every character takes one column: the dashboard draws
  /// names, numbers, box, block and braille characters, all one column wide.
  @discardableResult
  public mutating func put(
    _ text: some StringProtocol,
    x: Int,
    y: Int,
    style: CellStyle = .normal,
    limit: Int = .max
  ) -> Int {
    guard y >= 0, y < height, x < width else { return 0 }
    var column = x
    let end = limit >= width ? width : min(width, x + max(0, limit))
    for character in text {
      guard column < end else { break }
      if column >= 0 { self[column, y] = Cell(character, style) }
      column += 1
    }
    return max(0, column - max(x, 0))
  }

  /// Fills `count` columns of row `y` from column `x` with `character`.
  public mutating func fill(
    x: Int,
    y: Int,
    count: Int,
    character: Character = " ",
    style: CellStyle = .normal
  ) {
    guard y >= 0, y < height else { return }
    for column in max(0, x)..<max(max(0, x), min(width, x + count)) {
      self[column, y] = Cell(character, style)
    }
  }

  /// Row `y` as text, trailing spaces kept: what a test reads.
  public func line(_ y: Int) -> String {
    String(cells[(y * width)..<((y + 1) * width)].map(\.character))
  }

  /// The whole frame as text, one line per row, trailing spaces trimmed.
  public var text: String {
    (0..<height).map { y in
      let row = line(y)
      return String(row[..<(row.lastIndex { $0 != " " }.map(row.index(after:)) ?? row.startIndex)])
    }.joined(separator: "\n")
  }
}

/// A key the dashboard understands, decoded from the terminal's input.
public enum Key: Sendable, Hashable {
  /// A printable character (`d`, `/`, `?`, …).
  case character(Character)
  /// Arrow up.
  case up
  /// Arrow down.
  case down
  /// Arrow left.
  case left
  /// Arrow right.
  case right
  /// Page up.
  case pageUp
  /// Page down.
  case pageDown
  /// Home.
  case home
  /// End.
  case end
  /// Enter or Return.
  case enter
  /// Tab.
  case tab
  /// Shift-Tab.
  case backTab
  /// Escape.
  case escape
  /// Backspace or Delete.
  case backspace
  /// The terminal changed size.
  case resize
  /// Ctrl-C.
  case interrupt
}
