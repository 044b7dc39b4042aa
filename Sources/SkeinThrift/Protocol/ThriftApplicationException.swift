/// `TApplicationException`: the error a Thrift server sends, as an `EXCEPTION` message, when a
/// call fails outside the method's declared contract (unknown method, undecodable arguments, a
/// handler error that is not a declared exception).
public struct ThriftApplicationException: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of failure, field 2 on the wire. Values Skein does not know are kept.
  public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: Int32

    /// Creates a kind from its wire value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let unknown = Kind(rawValue: 0)
    public static let unknownMethod = Kind(rawValue: 1)
    public static let invalidMessageType = Kind(rawValue: 2)
    public static let wrongMethodName = Kind(rawValue: 3)
    public static let badSequenceID = Kind(rawValue: 4)
    public static let missingResult = Kind(rawValue: 5)
    public static let internalError = Kind(rawValue: 6)
    public static let protocolError = Kind(rawValue: 7)
    public static let invalidTransform = Kind(rawValue: 8)
    public static let invalidProtocol = Kind(rawValue: 9)
    public static let unsupportedClientType = Kind(rawValue: 10)

    /// The kind's name as Apache Thrift spells it.
    public var description: String {
      switch rawValue {
      case 0: "UNKNOWN"
      case 1: "UNKNOWN_METHOD"
      case 2: "INVALID_MESSAGE_TYPE"
      case 3: "WRONG_METHOD_NAME"
      case 4: "BAD_SEQUENCE_ID"
      case 5: "MISSING_RESULT"
      case 6: "INTERNAL_ERROR"
      case 7: "PROTOCOL_ERROR"
      case 8: "INVALID_TRANSFORM"
      case 9: "INVALID_PROTOCOL"
      case 10: "UNSUPPORTED_CLIENT_TYPE"
      default: "UNKNOWN(\(rawValue))"
      }
    }
  }

  /// What happened, field 1 on the wire.
  public var message: String
  /// The kind of failure.
  public var kind: Kind

  /// Creates an exception.
  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  /// `KIND: message`.
  public var description: String { "\(kind): \(message)" }
}

extension ThriftApplicationException: ThriftStruct {
  /// Decodes `{1: string message, 2: i32 type}`, skipping anything else.
  public init(from reader: inout ThriftBinaryReader) throws {
    var message = ""
    var kind = Kind.unknown
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): message = try reader.readString()
      case (2, .i32): kind = Kind(rawValue: try reader.readI32())
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self.init(kind, message)
  }

  /// Encodes `{1: string message, 2: i32 type}`.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(message)
    writer.writeFieldBegin(.i32, id: 2)
    writer.writeI32(kind.rawValue)
    writer.writeFieldStop()
  }
}
