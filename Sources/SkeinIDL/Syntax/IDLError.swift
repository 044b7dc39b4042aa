/// An error in a Thrift IDL file: where it is and what was expected there.
public struct IDLError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Where the problem is.
  public var location: SourceLocation
  /// What is wrong, phrased so a person can fix it ("expected '}' to close struct 'Foo', found 'service'").
  public var message: String

  /// Creates an error at a location.
  public init(_ message: String, at location: SourceLocation) {
    self.location = location
    self.message = message
  }

  /// `file:line:column: error: message`, the form compilers print.
  public var description: String { "\(location): error: \(message)" }
}
