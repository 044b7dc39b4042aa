/// A position in a Thrift IDL file, for error messages a person can jump to.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
  /// The file as it was named to the parser (relative or absolute).
  public var file: String
  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in Unicode scalars.
  public var column: Int

  /// Creates a location.
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// `file:line:column`, the form editors and compilers use.
  public var description: String { "\(file):\(line):\(column)" }
}
