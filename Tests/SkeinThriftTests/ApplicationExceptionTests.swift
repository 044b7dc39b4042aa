import NIOCore
import SkeinThrift
import Testing

@Suite("TApplicationException")
struct ApplicationExceptionTests {
  static let kinds: [(ThriftApplicationException.Kind, Int32, String)] = [
    (.unknown, 0, "UNKNOWN"),
    (.unknownMethod, 1, "UNKNOWN_METHOD"),
    (.invalidMessageType, 2, "INVALID_MESSAGE_TYPE"),
    (.wrongMethodName, 3, "WRONG_METHOD_NAME"),
    (.badSequenceID, 4, "BAD_SEQUENCE_ID"),
    (.missingResult, 5, "MISSING_RESULT"),
    (.internalError, 6, "INTERNAL_ERROR"),
    (.protocolError, 7, "PROTOCOL_ERROR"),
    (.invalidTransform, 8, "INVALID_TRANSFORM"),
    (.invalidProtocol, 9, "INVALID_PROTOCOL"),
    (.unsupportedClientType, 10, "UNSUPPORTED_CLIENT_TYPE"),
  ]

  @Test("each kind has the spec's value and name, and round-trips", arguments: kinds)
  func kindRoundTrips(kind: ThriftApplicationException.Kind, raw: Int32, name: String) throws {
    #expect(kind.rawValue == raw)
    #expect(kind.description == name)
    let exception = ThriftApplicationException(kind, "failed: \(name)")
    #expect(exception.description == "\(name): failed: \(name)")
    let decoded = try ThriftApplicationException(decoding: exception.encoded())
    #expect(decoded == exception)
    #expect(decoded.kind == kind)
    #expect(decoded.message == "failed: \(name)")
  }

  @Test("unknown kinds are kept")
  func unknownKindIsKept() throws {
    let exception = ThriftApplicationException(.init(rawValue: 42), "future")
    #expect(exception.kind.description == "UNKNOWN(42)")
    let decoded = try ThriftApplicationException(decoding: exception.encoded())
    #expect(decoded.kind.rawValue == 42)
  }

  @Test("the wire layout is {1: string message, 2: i32 type}, then stop")
  func wireLayout() {
    let exception = ThriftApplicationException(.unknownMethod, "nope")
    let expected: [UInt8] = [
      0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x6e, 0x6f, 0x70, 0x65,
      0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
      0x00,
    ]
    #expect(bytes(of: exception.encoded()) == expected)
  }

  @Test("an EXCEPTION message is the header, then the exception struct")
  func exceptionMessageWireBytes() throws {
    var writer = ThriftBinaryWriter()
    writer.writeException(
      ThriftApplicationException(.internalError, "x"),
      method: "m",
      sequenceID: 9
    )
    let expected: [UInt8] =
      [0x80, 0x01, 0x00, 0x03] + wireString("m") + be32(9)
      + fieldHeader(.string, 1) + wireString("x") + fieldHeader(.i32, 2) + be32(6) + [0x00]
    #expect(bytes(of: writer.buffer) == expected)
  }

  @Test("fields are read in any order")
  func fieldsInAnyOrder() throws {
    let wire =
      fieldHeader(.i32, 2) + be32(7) + fieldHeader(.string, 1) + wireString("late") + [0x00]
    let decoded = try ThriftApplicationException(decoding: wire)
    #expect(decoded == ThriftApplicationException(.protocolError, "late"))
  }

  @Test("missing fields default to an empty message and UNKNOWN")
  func missingFields() throws {
    #expect(
      try ThriftApplicationException(decoding: [0x00]) == ThriftApplicationException(.unknown, "")
    )
  }

  @Test("unknown fields and fields of an unexpected type are skipped")
  func unknownFieldsAreSkipped() throws {
    let wire: [UInt8] =
      fieldHeader(.i32, 1) + be32(5)  // message with the wrong type
      + fieldHeader(.map, 3) + mapHeader(.string, .string, 1) + wireString("k") + wireString("v")
      + fieldHeader(.string, 2) + wireString("wrong type too")
      + fieldHeader(.string, 1) + wireString("the message")
      + fieldHeader(.struct, 4) + fieldHeader(.i64, 1) + be64(1) + [0x00]
      + fieldHeader(.i32, 2) + be32(3)
      + [0x00]
    let decoded = try ThriftApplicationException(decoding: wire)
    #expect(decoded == ThriftApplicationException(.wrongMethodName, "the message"))
  }

  @Test("a cut-short exception struct is truncated")
  func truncatedException() throws {
    let wire = bytes(of: ThriftApplicationException(.badSequenceID, "seq").encoded())
    for length in 0..<wire.count {
      expectProtocolError(.truncated) {
        _ = try ThriftApplicationException(decoding: Array(wire.prefix(length)))
      }
    }
  }
}
