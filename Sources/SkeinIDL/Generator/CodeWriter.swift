/// Accumulates generated source with indentation, so emitters read like the code they write.
struct CodeWriter {
  private(set) var text = ""
  /// Levels of two-space indentation for the next line.
  var indentation = 0

  /// Appends what another writer accumulated, as it is.
  mutating func append(_ other: CodeWriter) {
    text += other.text
  }

  /// Appends one line at the current indentation; an empty string appends an empty line.
  mutating func line(_ content: String = "") {
    if content.isEmpty {
      text += "\n"
    } else {
      text += String(repeating: "  ", count: indentation) + content + "\n"
    }
  }

  /// Appends a `///` doc comment, one line per line of `doc`.
  mutating func doc(_ doc: String?) {
    guard let doc, !doc.isEmpty else { return }
    for docLine in doc.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = docLine.trimmingTrailingWhitespace()
      line(trimmed.isEmpty ? "///" : "/// \(trimmed)")
    }
  }

  /// Appends `header {`, the body one level deeper, then `}` (plus `trailer`).
  mutating func block(
    _ header: String,
    trailer: String = "",
    _ body: (inout CodeWriter) throws -> Void
  )
    rethrows
  {
    line(header + " {")
    indentation += 1
    try body(&self)
    indentation -= 1
    line("}" + trailer)
  }

  /// Runs `body` one level deeper without braces (for `case` bodies).
  mutating func indented(_ body: (inout CodeWriter) throws -> Void) rethrows {
    indentation += 1
    try body(&self)
    indentation -= 1
  }
}

extension StringProtocol {
  func trimmingTrailingWhitespace() -> String {
    var result = String(self)
    while let last = result.last, last == " " || last == "\t" || last == "\r" {
      result.removeLast()
    }
    return result
  }
}
