/// Why the terminal could not be opened.
public struct TerminalError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What went wrong, for the user.
  public let message: String

  /// An error saying `message`.
  ///
  /// - Parameter message: What went wrong.
  public init(_ message: String) {
    self.message = message
  }

  /// The message.
  public var description: String { message }
}
