import NIOCore

/// The four kinds of Thrift message.
public enum ThriftMessageType: UInt8, Sendable, Hashable, CustomStringConvertible {
  /// A request that expects a reply.
  case call = 1
  /// A successful reply (which may still carry a declared exception in its result struct).
  case reply = 2
  /// A `TApplicationException`: the call failed in the framework, not in the handler's contract.
  case exception = 3
  /// A request that gets no reply.
  case oneway = 4

  /// The message type's name.
  public var description: String {
    switch self {
    case .call: "call"
    case .reply: "reply"
    case .exception: "exception"
    case .oneway: "oneway"
    }
  }
}

/// The header that starts every Thrift message: method name, message type and sequence id.
public struct ThriftMessageHeader: Sendable, Hashable {
  /// The method name.
  public var name: String
  /// The message type.
  public var type: ThriftMessageType
  /// The sequence id; a reply carries its call's, which is how a client matches them.
  public var sequenceID: Int32

  /// Creates a header.
  @inlinable
  public init(name: String, type: ThriftMessageType, sequenceID: Int32) {
    self.name = name
    self.type = type
    self.sequenceID = sequenceID
  }
}

extension ThriftBinaryReader {
  /// Reads a message header in either form: the strict one Skein writes (version word first)
  /// or the old non-strict one (name length first) that some older clients still send.
  public mutating func readMessageBegin() throws -> ThriftMessageHeader {
    let first = try readI32()
    let name: String
    let rawType: UInt8
    if first < 0 {
      let version = UInt32(bitPattern: first) & 0xffff_0000
      guard version == 0x8001_0000 else {
        throw ThriftProtocolError(
          code: .badVersion,
          message: "bad message version 0x\(String(UInt32(bitPattern: first), radix: 16))",
          value: Int64(first)
        )
      }
      rawType = UInt8(truncatingIfNeeded: first)
      name = try readString()
    } else {
      // Non-strict: `first` was the name's length.
      let length = Int(first)
      if length > limits.maxStringLength {
        throw ThriftProtocolError.limitExceeded(
          .maxStringLength,
          "method name length",
          value: length,
          max: limits.maxStringLength
        )
      }
      guard length <= readableBytes else {
        throw ThriftProtocolError.truncated("method name", needed: length, available: readableBytes)
      }
      name = readUTF8(length: length)
      rawType = UInt8(bitPattern: try readI8())
    }
    guard let type = ThriftMessageType(rawValue: rawType) else {
      throw ThriftProtocolError.invalidData("unknown message type \(rawType)")
    }
    let sequenceID = try readI32()
    return ThriftMessageHeader(name: name, type: type, sequenceID: sequenceID)
  }
}
