/// The named limits a reader enforces on untrusted input. Each is checked before anything is
/// allocated for the value it guards, so a hostile peer that claims a huge size gets an error,
/// not an allocation of that size.
public struct ThriftLimits: Sendable, Hashable {
  /// The largest frame the framed transport accepts, in bytes (default 16 MiB).
  public var maxFrameSize: Int
  /// The longest string or binary value, in bytes (default 16 MiB).
  public var maxStringLength: Int
  /// The most elements in one list or set, or entries in one map (default 1,048,576).
  public var maxContainerCount: Int
  /// How deeply structs and containers may nest (default 64, Apache Thrift's recursion limit).
  public var maxNestingDepth: Int

  /// Creates limits; every parameter has the documented default.
  public init(
    maxFrameSize: Int = 16 * 1024 * 1024,
    maxStringLength: Int = 16 * 1024 * 1024,
    maxContainerCount: Int = 1 << 20,
    maxNestingDepth: Int = 64
  ) {
    self.maxFrameSize = maxFrameSize
    self.maxStringLength = maxStringLength
    self.maxContainerCount = maxContainerCount
    self.maxNestingDepth = maxNestingDepth
  }

  /// The defaults, suitable for most services.
  public static let `default` = ThriftLimits()
}

/// Names one of the ``ThriftLimits``, so an error can say which limit a peer broke.
public enum ThriftLimit: String, Sendable, Hashable, CustomStringConvertible {
  case maxFrameSize
  case maxStringLength
  case maxContainerCount
  case maxNestingDepth

  /// The limit's name as it appears in ``ThriftLimits`` and in configuration.
  public var description: String { rawValue }
}
