// Turns Thrift IDL text into tokens. The source is held as an array of UTF-8 bytes, so every
// look-ahead is a plain, bounds-checked array index rather than a walk over `String.Index`, and
// names and literals become `String`s by a cheap UTF-8 copy. Everything with meaning in Thrift is
// ASCII; other scalars can only appear inside comments and string literals, where their bytes are
// passed through untouched. Columns still count Unicode scalars, as `SourceLocation` promises: a
// UTF-8 continuation byte does not advance the column.

/// One token of Thrift IDL: what it is, where it starts, and the doc comment written before it.
struct Token: Sendable {
  /// The kind of a token, with its value.
  enum Kind: Sendable, Equatable {
    /// A name or keyword. Dots are part of it (`base.Base`, `Color.RED`), as in Apache Thrift.
    case identifier(String)
    /// An integer literal, with its text as written so messages can quote it (`0x1F`, `-3`).
    case integer(Int64, spelling: String)
    /// A floating-point literal, with its text as written.
    case double(Double, spelling: String)
    /// A string literal, quotes removed and escapes decoded.
    case string(String)
    /// One of `{ } ( ) [ ] < > , ; : = * &`.
    case punctuation(Unicode.Scalar)
    /// The end of the input; the lexer keeps returning it.
    case endOfFile
  }

  /// What the token is.
  var kind: Kind
  /// Where its first scalar is.
  var location: SourceLocation
  /// The last `/** … */` comment between the previous token and this one, cleaned of its markers.
  var doc: String?

  /// The identifier's text, or `nil` for any other kind of token.
  var identifier: String? {
    if case .identifier(let text) = kind { return text }
    return nil
  }

  /// Whether this is the punctuation `scalar`.
  func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    kind == .punctuation(scalar)
  }

  /// The token as an error message names it: `'x'`, `integer 5`, `string "abc"`, `end of file`.
  var readableDescription: String {
    switch kind {
    case .identifier(let text): "'\(text)'"
    case .integer(_, let spelling): "integer \(spelling)"
    case .double(_, let spelling): "double \(spelling)"
    case .string(let text): "string \"\(Self.abbreviated(text))\""
    case .punctuation(let scalar): "'\(scalar)'"
    case .endOfFile: "end of file"
    }
  }

  /// A string literal's value shortened and escaped so an error message stays on one line.
  private static func abbreviated(_ text: String) -> String {
    let limit = 40
    var result = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count == limit {
        result += "…"
        break
      }
      count += 1
      switch scalar {
      case "\n": result += "\\n"
      case "\t": result += "\\t"
      case "\r": result += "\\r"
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}

/// Reads tokens one at a time from Thrift IDL source.
///
/// Comments (`//`, `#`, `/* */`) are skipped; a `/** … */` doc comment is handed to the next
/// token as its `doc`. Lexical errors (an unterminated string, a stray character, an integer
/// that does not fit in 64 bits) are thrown as `IDLError` when the bad token is reached, so they
/// surface in source order together with the parser's own errors.
struct Lexer {
  private let bytes: [UInt8]
  private let file: String
  private var index = 0
  private var line = 1
  private var column = 1
  private var pendingDoc: String?

  /// Creates a lexer over `source`; `file` is used in every location it reports.
  init(source: String, file: String) {
    self.bytes = Array(source.utf8)
    self.file = file
  }

  /// Returns the next token, or an `.endOfFile` token once the input is used up.
  mutating func next() throws(IDLError) -> Token {
    try skipWhitespaceAndComments()
    let location = currentLocation
    let doc = pendingDoc
    pendingDoc = nil
    guard let byte = peek() else {
      return Token(kind: .endOfFile, location: location, doc: doc)
    }
    let kind: Token.Kind
    if Self.isIdentifierStart(byte) {
      kind = .identifier(lexIdentifier())
    } else if startsNumber(byte) {
      kind = try lexNumber(at: location)
    } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
      kind = .string(try lexString(at: location))
    } else if Self.isPunctuation(byte) {
      advance()
      kind = .punctuation(Unicode.Scalar(byte))
    } else {
      throw IDLError("unexpected character \(Self.describe(scalar(at: index)))", at: location)
    }
    return Token(kind: kind, location: location, doc: doc)
  }

  // MARK: - Reading bytes

  private var currentLocation: SourceLocation {
    SourceLocation(file: file, line: line, column: column)
  }

  private func peek(_ offset: Int = 0) -> UInt8? {
    let position = index + offset
    return position < bytes.count ? bytes[position] : nil
  }

  private func peek(_ offset: Int = 0, is ascii: Unicode.Scalar) -> Bool {
    peek(offset) == UInt8(ascii: ascii)
  }

  private mutating func advance() {
    guard index < bytes.count else { return }
    let byte = bytes[index]
    if byte == UInt8(ascii: "\n") {
      line += 1
      column = 1
    } else if byte & 0xC0 != 0x80 {
      // Only the first byte of a scalar moves the column; continuation bytes are 0b10xxxxxx.
      column += 1
    }
    index += 1
  }

  private func text(from start: Int, to end: Int? = nil) -> String {
    String(decoding: bytes[start..<(end ?? index)], as: UTF8.self)
  }

  /// The whole scalar starting at `position`, for messages that quote a non-ASCII character.
  private func scalar(at position: Int) -> Unicode.Scalar {
    var end = min(position + 1, bytes.count)
    while end < bytes.count, bytes[end] & 0xC0 == 0x80 {
      end += 1
    }
    let decoded = String(decoding: bytes[position..<end], as: UTF8.self)
    return decoded.unicodeScalars.first ?? "\u{FFFD}"
  }

  // MARK: - Whitespace and comments

  private mutating func skipWhitespaceAndComments() throws(IDLError) {
    while let byte = peek() {
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
        0x0B, 0x0C:
        advance()
      // A byte-order mark (EF BB BF) is invisible in editors, so it counts as whitespace.
      case 0xEF where peek(1) == 0xBB && peek(2) == 0xBF:
        advance()
        advance()
        advance()
      case UInt8(ascii: "#"):
        skipLine()
      case UInt8(ascii: "/") where peek(1, is: "/"):
        skipLine()
      case UInt8(ascii: "/") where peek(1, is: "*"):
        try skipBlockComment()
      default:
        return
      }
    }
  }

  private mutating func skipLine() {
    while let byte = peek(), byte != UInt8(ascii: "\n") {
      advance()
    }
  }

  private mutating func skipBlockComment() throws(IDLError) {
    let start = currentLocation
    advance()
    advance()
    // `/**/` is an empty ordinary comment, not the start of a doc comment.
    let isDoc = peek(is: "*") && !peek(1, is: "/")
    let contentStart = isDoc ? index + 1 : index
    while let byte = peek() {
      if byte == UInt8(ascii: "*") && peek(1, is: "/") {
        let contentEnd = max(contentStart, index)
        advance()
        advance()
        if isDoc {
          pendingDoc = Self.cleanDocComment(bytes[contentStart..<contentEnd])
        }
        return
      }
      advance()
    }
    throw IDLError("unterminated comment", at: start)
  }

  /// The text of a doc comment without the decoration people put on its lines: leading
  /// whitespace and one `*` (plus one space after it) per line, trailing whitespace, and blank
  /// first and last lines. Indentation after the `* ` is kept, since it may be meaningful.
  static func cleanDocComment(_ content: ArraySlice<UInt8>) -> String? {
    var lines: [String] = []
    for rawLine in content.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      var start = rawLine.startIndex
      while start < rawLine.endIndex, isSpace(rawLine[start]) {
        start += 1
      }
      if start < rawLine.endIndex, rawLine[start] == UInt8(ascii: "*") {
        start += 1
        if start < rawLine.endIndex, rawLine[start] == UInt8(ascii: " ") {
          start += 1
        }
      }
      var end = rawLine.endIndex
      while end > start, isSpace(rawLine[end - 1]) {
        end -= 1
      }
      lines.append(String(decoding: rawLine[start..<end], as: UTF8.self))
    }
    while let first = lines.first, first.isEmpty {
      lines.removeFirst()
    }
    while let last = lines.last, last.isEmpty {
      lines.removeLast()
    }
    return lines.isEmpty ? nil : lines.joined(separator: "\n")
  }

  // MARK: - Identifiers

  private mutating func lexIdentifier() -> String {
    let start = index
    advance()
    while let byte = peek() {
      if Self.isIdentifierPart(byte) {
        advance()
      } else if byte == UInt8(ascii: "."), let following = peek(1),
        Self.isIdentifierPart(following)
      {
        // A dot joins parts of one name (`file.Type`); a dot not followed by one is left over.
        advance()
      } else {
        break
      }
    }
    return text(from: start)
  }

  // MARK: - Numbers

  private func startsNumber(_ byte: UInt8) -> Bool {
    if Self.isDigit(byte) { return true }
    var offset = 0
    if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { offset = 1 }
    guard let first = peek(offset) else { return false }
    if Self.isDigit(first) { return true }
    guard first == UInt8(ascii: "."), let second = peek(offset + 1) else { return false }
    return Self.isDigit(second)
  }

  private mutating func lexNumber(at location: SourceLocation) throws(IDLError) -> Token.Kind {
    let start = index
    let isNegative = peek(is: "-")
    if peek(is: "+") || peek(is: "-") {
      advance()
    }
    let radix: UInt64
    if peek(is: "0") && (peek(1, is: "x") || peek(1, is: "X")) {
      advance()
      advance()
      guard let first = peek(), Self.hexValue(first) != nil else {
        throw IDLError("expected hexadecimal digits after '0x'", at: location)
      }
      radix = 16
    } else {
      radix = 10
    }
    let digitsStart = index
    while let byte = peek(), let digit = Self.hexValue(byte), digit < radix {
      advance()
    }
    let digitsEnd = index

    if radix == 10 && scanFractionAndExponent() {
      let spelling = text(from: start)
      guard let value = Double(spelling), value.isFinite else {
        throw IDLError("double \(spelling) is out of range", at: location)
      }
      return .double(value, spelling: spelling)
    }

    let spelling = text(from: start)
    var magnitude: UInt64 = 0
    var overflowed = false
    for position in digitsStart..<digitsEnd {
      let digit = Self.hexValue(bytes[position]) ?? 0
      let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: radix)
      let (sum, overflow2) = shifted.addingReportingOverflow(digit)
      overflowed = overflowed || overflow1 || overflow2
      magnitude = sum
    }
    // `-9223372036854775808` is the one value whose magnitude does not fit in `Int64` but whose
    // result does.
    let limit = UInt64(Int64.max) + (isNegative ? 1 : 0)
    guard !overflowed, magnitude <= limit else {
      throw IDLError("integer \(spelling) does not fit in i64", at: location)
    }
    let value = isNegative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
    return .integer(value, spelling: spelling)
  }

  /// Consumes a `.digits` fraction and an `e±digits` exponent after a decimal integer part, if
  /// present, and says whether either was. A dot or `e` without digits after it is left alone.
  private mutating func scanFractionAndExponent() -> Bool {
    var isDouble = false
    if peek(is: "."), let next = peek(1), Self.isDigit(next) {
      isDouble = true
      advance()
      skipDigits()
    }
    if peek(is: "e") || peek(is: "E") {
      let hasSign = peek(1, is: "+") || peek(1, is: "-")
      if let digit = peek(hasSign ? 2 : 1), Self.isDigit(digit) {
        isDouble = true
        advance()
        if hasSign {
          advance()
        }
        skipDigits()
      }
    }
    return isDouble
  }

  private mutating func skipDigits() {
    while let byte = peek(), Self.isDigit(byte) {
      advance()
    }
  }

  // MARK: - Strings

  private mutating func lexString(at location: SourceLocation) throws(IDLError) -> String {
    guard let quote = peek() else {
      throw IDLError("unterminated string literal", at: location)
    }
    advance()
    var value: [UInt8] = []
    while let byte = peek() {
      if byte == quote {
        advance()
        return String(decoding: value, as: UTF8.self)
      }
      guard byte == UInt8(ascii: "\\") else {
        // Literals may span lines, as Apache Thrift allows; non-ASCII bytes pass through whole.
        value.append(byte)
        advance()
        continue
      }
      let escapeLocation = currentLocation
      advance()
      guard let escaped = peek() else { break }
      switch escaped {
      case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
      case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
      case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
      case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): value.append(escaped)
      case UInt8(ascii: "u"):
        advance()
        value.append(contentsOf: try lexUnicodeEscape(at: escapeLocation))
        continue
      default:
        throw IDLError(
          "unknown escape sequence \(Self.describe(scalar(at: index), prefix: "\\")) "
            + "in string literal",
          at: escapeLocation
        )
      }
      advance()
    }
    throw IDLError("unterminated string literal", at: location)
  }

  /// Decodes the `XXXX` of `\uXXXX` (the `\u` is already read), joining a UTF-16 surrogate
  /// pair written as two escapes, the way JSON spells characters outside the BMP.
  private mutating func lexUnicodeEscape(
    at location: SourceLocation
  ) throws(IDLError) -> Unicode.Scalar.UTF8View {
    let first = try lexFourHexDigits(at: location)
    var value = first
    if (0xD800...0xDBFF).contains(first) {
      guard peek(is: "\\"), peek(1, is: "u") else {
        throw IDLError("unpaired surrogate in '\\u' escape in string literal", at: location)
      }
      advance()
      advance()
      let second = try lexFourHexDigits(at: location)
      guard (0xDC00...0xDFFF).contains(second) else {
        throw IDLError("unpaired surrogate in '\\u' escape in string literal", at: location)
      }
      value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
    }
    guard let scalar = Unicode.Scalar(value) else {
      throw IDLError("unpaired surrogate in '\\u' escape in string literal", at: location)
    }
    return scalar.utf8
  }

  private mutating func lexFourHexDigits(at location: SourceLocation) throws(IDLError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = peek(), let digit = Self.hexValue(byte) else {
        throw IDLError("expected 4 hexadecimal digits after '\\u' in string literal", at: location)
      }
      value = value * 16 + UInt32(digit)
      advance()
    }
    return value
  }

  // MARK: - Character classes

  private static func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
  }

  private static func isIdentifierStart(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
      || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
  }

  private static func isIdentifierPart(_ byte: UInt8) -> Bool {
    isIdentifierStart(byte) || isDigit(byte)
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
  }

  private static func isPunctuation(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"),
      UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "<"), UInt8(ascii: ">"),
      UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "="),
      UInt8(ascii: "*"), UInt8(ascii: "&"):
      true
    default:
      false
    }
  }

  private static func hexValue(_ byte: UInt8) -> UInt64? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  /// A scalar quoted for a message; invisible ones are spelled `U+XXXX` so the reader can tell
  /// a tab or a zero-width space from nothing at all.
  private static func describe(_ scalar: Unicode.Scalar, prefix: String = "") -> String {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator,
      .lineSeparator, .paragraphSeparator:
      var hex = String(scalar.value, radix: 16, uppercase: true)
      while hex.count < 4 {
        hex = "0" + hex
      }
      return prefix.isEmpty ? "U+\(hex)" : "'\(prefix)' followed by U+\(hex)"
    default:
      return "'\(prefix)\(scalar)'"
    }
  }
}
