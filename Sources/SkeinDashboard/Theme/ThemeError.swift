/// Everything wrong with one theme file; a file with any problem is not used.
public struct ThemeError: Error, Sendable, Hashable, CustomStringConvertible {
  /// One problem on one line.
  public struct Problem: Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Hashable {
      /// The key is not `name` nor a ``Theme/ColorKey``.
      case unknownKey
      /// The value (given) is not a color.
      case badColor(String)
      /// The line has no `=`; the problem's key is the whole line.
      case missingEquals
      /// The key was already set on the given line.
      case duplicateKey(firstLine: Int)
      /// The file could not be read (the reason given); its line is 0.
      case unreadable(String)
    }

    /// The file's path.
    public let file: String
    /// The line, counted from 1.
    public let line: Int
    /// The key the line sets (or the line itself, when it has no `=`).
    public let key: String
    /// What is wrong.
    public let kind: Kind

    /// A problem.
    ///
    /// - Parameters:
    ///   - file: The file's path.
    ///   - line: The line, from 1.
    ///   - key: The key the problem is about.
    ///   - kind: What is wrong.
    public init(file: String, line: Int, key: String, kind: Kind) {
      self.file = file
      self.line = line
      self.key = key
      self.kind = kind
    }

    /// `file:line: what is wrong`, as compilers print it, so editors can jump to it.
    public var description: String {
      let place = "\(file):\(line)"
      switch kind {
      case .unknownKey:
        return "\(place): unknown key `\(key)`"
      case .badColor(let value):
        return "\(place): `\(key)` has a bad color `\(value)` (expected a color name such as red"
          + " or bright-red, default, or #rrggbb)"
      case .missingEquals:
        return "\(place): expected `key = color`, found `\(key)`"
      case .duplicateKey(let first):
        return "\(place): duplicate key `\(key)` (first set on line \(first))"
      case .unreadable(let reason):
        return "\(place): cannot read the theme: \(reason)"
      }
    }
  }

  /// The file's path.
  public let file: String
  /// The problems, in line order.
  public let problems: [Problem]

  /// The problems of `file`.
  ///
  /// - Parameters:
  ///   - file: The file's path.
  ///   - problems: What is wrong with it.
  public init(file: String, problems: [Problem]) {
    self.file = file
    self.problems = problems
  }

  /// One problem a line.
  public var description: String {
    problems.map(\.description).joined(separator: "\n")
  }
}
