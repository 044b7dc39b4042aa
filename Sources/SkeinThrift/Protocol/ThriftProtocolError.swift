/// An error reading or writing Thrift data: malformed, truncated or hostile input, or a value
/// that breaks one of the ``ThriftLimits``.
///
/// Errors carry a stable ``code`` to switch on and a message a person can act on. Decoding never
/// traps: every way bytes can be wrong ends up as one of these.
public struct ThriftProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A stable category of protocol error. New codes may be added; switch with a `default`.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline
    enum Wrapped: Sendable, Hashable {
      case truncated
      case negativeSize
      case limitExceeded
      case unknownType
      case badVersion
      case invalidData
      case missingRequiredField
    }

    @usableFromInline
    let wrapped: Wrapped

    @inlinable
    init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The data ended before the value it declared.
    public static let truncated = Code(.truncated)
    /// A length or count was negative.
    public static let negativeSize = Code(.negativeSize)
    /// A size or depth broke one of the ``ThriftLimits``; ``ThriftProtocolError/limit`` says which.
    public static let limitExceeded = Code(.limitExceeded)
    /// A type id that the binary protocol does not define.
    public static let unknownType = Code(.unknownType)
    /// A message header with a version other than binary protocol version 1.
    public static let badVersion = Code(.badVersion)
    /// Bytes that are well-formed but mean nothing valid (a union with two fields set, an unknown
    /// message type, a container of the wrong element type).
    public static let invalidData = Code(.invalidData)
    /// A `required` field was absent.
    public static let missingRequiredField = Code(.missingRequiredField)

    /// The code's name.
    public var description: String {
      switch wrapped {
      case .truncated: "truncated"
      case .negativeSize: "negativeSize"
      case .limitExceeded: "limitExceeded"
      case .unknownType: "unknownType"
      case .badVersion: "badVersion"
      case .invalidData: "invalidData"
      case .missingRequiredField: "missingRequiredField"
      }
    }
  }

  /// What went wrong, as a stable category.
  public var code: Code
  /// What went wrong, for a person.
  public var message: String
  /// The limit that was broken, for ``Code/limitExceeded``.
  public var limit: ThriftLimit?
  /// The offending value (the size claimed, the depth reached, the type id seen), when there is one.
  public var value: Int64?

  /// Creates an error.
  public init(code: Code, message: String, limit: ThriftLimit? = nil, value: Int64? = nil) {
    self.code = code
    self.message = message
    self.limit = limit
    self.value = value
  }

  /// `code: message`.
  public var description: String { "\(code): \(message)" }

  /// Whether bytes that raised this error inside one complete message cannot have come from
  /// an honest peer: a value that runs past the end of its message, a negative or
  /// over-the-limit size or depth, an undefined type id, a bad version. Errors that well-formed
  /// bytes of a different IDL raise (``Code/invalidData``, ``Code/missingRequiredField``) do
  /// not.
  public var meansCorruptInput: Bool {
    switch code.wrapped {
    case .truncated, .negativeSize, .limitExceeded, .unknownType, .badVersion: true
    case .invalidData, .missingRequiredField: false
    }
  }

  /// The error of a message header that could not be read: `error` itself when it is a
  /// protocol error (it always is, from ``ThriftBinaryReader``).
  ///
  /// - Parameter error: What reading the header threw.
  @inlinable
  public init(unreadable error: any Error) {
    self =
      error as? ThriftProtocolError
      ?? ThriftProtocolError(code: .invalidData, message: "unreadable message header: \(error)")
  }

  // The constructors below are what the reader throws; they live here so every message is
  // phrased once and reads the same wherever it is raised.

  /// `what` needed `needed` bytes but only `available` were left.
  @inlinable
  public static func truncated(_ what: String, needed: Int, available: Int) -> Self {
    Self(
      code: .truncated,
      message: "\(what) needs \(needed) bytes but only \(available) remain",
      value: Int64(needed)
    )
  }

  /// A negative length or count.
  @inlinable
  public static func negativeSize(_ what: String, _ size: Int) -> Self {
    Self(code: .negativeSize, message: "\(what) has negative size \(size)", value: Int64(size))
  }

  /// A value broke a named limit.
  @inlinable
  public static func limitExceeded(_ limit: ThriftLimit, _ what: String, value: Int, max: Int)
    -> Self
  {
    Self(
      code: .limitExceeded,
      message: "\(what) of \(value) exceeds \(limit) (\(max))",
      limit: limit,
      value: Int64(value)
    )
  }

  /// A type id the protocol does not define.
  @inlinable
  public static func unknownType(_ raw: UInt8) -> Self {
    Self(code: .unknownType, message: "unknown type id \(raw)", value: Int64(raw))
  }

  /// Well-formed bytes that mean nothing valid.
  @inlinable
  public static func invalidData(_ message: String) -> Self {
    Self(code: .invalidData, message: message)
  }

  /// A required field was absent when its struct ended.
  public static func missingRequiredField(_ field: String, in structName: String) -> Self {
    Self(
      code: .missingRequiredField,
      message: "required field '\(field)' of '\(structName)' is missing"
    )
  }
}
