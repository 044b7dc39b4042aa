import NIOCore
import SkeinThrift
import Testing

@Suite("Message headers")
struct MessageTests {
  static let allTypes: [(ThriftMessageType, UInt8)] = [
    (.call, 1), (.reply, 2), (.exception, 3), (.oneway, 4),
  ]

  @Test("message types have the spec's values and names")
  func messageTypeValues() {
    let names = ["call", "reply", "exception", "oneway"]
    for ((type, raw), name) in zip(Self.allTypes, names) {
      #expect(type.rawValue == raw)
      #expect(type.description == name)
    }
  }

  @Test("a strict header is 0x8001_0000 | type, the name, then the seqid", arguments: allTypes)
  func strictHeaderWireBytes(type: ThriftMessageType, raw: UInt8) throws {
    let header = ThriftMessageHeader(name: "ping", type: type, sequenceID: 7)
    let wire = written { $0.writeMessageBegin(header) }
    let expected: [UInt8] =
      [0x80, 0x01, 0x00, raw] + [0, 0, 0, 4] + Array("ping".utf8) + [0, 0, 0, 7]
    #expect(wire == expected)
    var input = reader(wire)
    #expect(try input.readMessageBegin() == header)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test(
    "an old non-strict header is read: name length first, then type byte, then seqid",
    arguments: allTypes
  )
  func nonStrictHeaderIsRead(type: ThriftMessageType, raw: UInt8) throws {
    let wire: [UInt8] = [0, 0, 0, 4] + Array("ping".utf8) + [raw] + [0, 0, 0x01, 0x02]
    var input = reader(wire)
    let header = try input.readMessageBegin()
    #expect(header == ThriftMessageHeader(name: "ping", type: type, sequenceID: 0x0102))
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a non-strict header with an empty name")
  func nonStrictEmptyName() throws {
    var input = reader([0, 0, 0, 0, 0x01] + be32(-9))
    #expect(
      try input.readMessageBegin() == ThriftMessageHeader(name: "", type: .call, sequenceID: -9)
    )
  }

  @Test("names with multi-byte UTF-8 and extreme seqids round-trip")
  func headerRoundTrips() throws {
    for sequenceID: Int32 in [0, -1, .max, .min] {
      let header = ThriftMessageHeader(name: "getÜser_日本", type: .reply, sequenceID: sequenceID)
      var input = reader(written { $0.writeMessageBegin(header) })
      #expect(try input.readMessageBegin() == header)
    }
  }

  @Test(
    "a version other than 1 is a bad version",
    arguments: [UInt32(0x8002_0001), 0x8000_0001, 0xffff_0001, 0x8101_0001]
  )
  func badVersion(bits: UInt32) throws {
    expectProtocolError(.badVersion, value: Int64(Int32(bitPattern: bits))) {
      var input = reader(be32(bits: bits) + wireString("ping") + be32(1))
      _ = try input.readMessageBegin()
    }
  }

  @Test(
    "a strict header with an unknown message type is invalid data",
    arguments: [UInt8(0), 5, 0xff]
  )
  func strictInvalidMessageType(raw: UInt8) throws {
    expectProtocolError(.invalidData) {
      var input = reader([0x80, 0x01, 0x00, raw] + wireString("ping") + be32(1))
      _ = try input.readMessageBegin()
    }
  }

  @Test(
    "a non-strict header with an unknown message type is invalid data",
    arguments: [UInt8(0), 5, 0x80]
  )
  func nonStrictInvalidMessageType(raw: UInt8) throws {
    expectProtocolError(.invalidData) {
      var input = reader(wireString("ping") + [raw] + be32(1))
      _ = try input.readMessageBegin()
    }
  }

  @Test("a non-strict name longer than maxStringLength is rejected before it is read")
  func nonStrictNameOverLimit() throws {
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 0x7fff_ffff) {
      var input = reader(be32(.max) + Array("ping".utf8))
      _ = try input.readMessageBegin()
    }
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 5) {
      var input = reader(
        wireString("hello") + [1] + be32(0),
        limits: ThriftLimits(maxStringLength: 4)
      )
      _ = try input.readMessageBegin()
    }
  }

  @Test("a non-strict name longer than the bytes left is truncated")
  func nonStrictNameTruncated() throws {
    expectProtocolError(.truncated, value: 100) {
      var input = reader(be32(100) + Array("ping".utf8))
      _ = try input.readMessageBegin()
    }
  }

  @Test("a strict name over the limit or with a negative length is rejected")
  func strictNameLimits() throws {
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 9) {
      var input = reader(
        [0x80, 0x01, 0x00, 0x01] + wireString("too long!") + be32(0),
        limits: ThriftLimits(maxStringLength: 8)
      )
      _ = try input.readMessageBegin()
    }
    expectProtocolError(.negativeSize, value: -1) {
      var input = reader([0x80, 0x01, 0x00, 0x01] + be32(-1) + be32(0))
      _ = try input.readMessageBegin()
    }
  }

  @Test("writeCall writes a call header then the args; a oneway method's call is oneway")
  func writeCall() throws {
    var writer = ThriftBinaryWriter()
    writer.writeCall(EchoMethods.Echo.self, args: .init(text: "hi"), sequenceID: 3)
    var input = ThriftBinaryReader(buffer: writer.buffer)
    #expect(
      try input.readMessageBegin() == ThriftMessageHeader(name: "echo", type: .call, sequenceID: 3)
    )
    #expect(try EchoMethods.EchoArgs(from: &input) == .init(text: "hi"))
    #expect(input.buffer.readableBytes == 0)

    var onewayWriter = ThriftBinaryWriter()
    onewayWriter.writeCall(EchoMethods.Notify.self, args: .init(text: "n"), sequenceID: 4)
    var onewayInput = ThriftBinaryReader(buffer: onewayWriter.buffer)
    let header = try onewayInput.readMessageBegin()
    #expect(header == ThriftMessageHeader(name: "notify", type: .oneway, sequenceID: 4))
  }

  @Test("writeReply and readReply carry the result struct")
  func replyRoundTrip() throws {
    var writer = ThriftBinaryWriter()
    writer.writeReply(EchoMethods.Echo.self, result: .init(success: "ok"), sequenceID: 11)
    let expected: [UInt8] =
      [0x80, 0x01, 0x00, 0x02] + wireString("echo") + be32(11)
      + fieldHeader(.string, 0) + wireString("ok") + [0x00]
    #expect(bytes(of: writer.buffer) == expected)

    var input = ThriftBinaryReader(buffer: writer.buffer)
    let header = try input.readMessageBegin()
    let result = try input.readReply(EchoMethods.Echo.self, header: header)
    #expect(try result.get() == "ok")
  }

  @Test("readReply throws the application exception an EXCEPTION message carries")
  func readReplyThrowsApplicationException() throws {
    var writer = ThriftBinaryWriter()
    let exception = ThriftApplicationException(.unknownMethod, "no such method")
    writer.writeException(exception, method: "echo", sequenceID: 5)
    var input = ThriftBinaryReader(buffer: writer.buffer)
    let header = try input.readMessageBegin()
    #expect(header == ThriftMessageHeader(name: "echo", type: .exception, sequenceID: 5))
    #expect(throws: exception) {
      _ = try input.readReply(EchoMethods.Echo.self, header: header)
    }
  }

  @Test("readReply rejects a call or oneway message", arguments: [ThriftMessageType.call, .oneway])
  func readReplyRejectsRequests(type: ThriftMessageType) throws {
    expectProtocolError(.invalidData) {
      var input = reader([0x00])
      let header = ThriftMessageHeader(name: "echo", type: type, sequenceID: 1)
      _ = try input.readReply(EchoMethods.Echo.self, header: header)
    }
  }

  @Test("a header cut short anywhere is truncated")
  func truncatedHeader() throws {
    let strict = written {
      $0.writeMessageBegin(ThriftMessageHeader(name: "m", type: .call, sequenceID: 1))
    }
    let nonStrict = wireString("m") + [0x01] + be32(1)
    for wire in [strict, nonStrict] {
      for length in 0..<wire.count {
        expectProtocolError(.truncated) {
          var input = reader(Array(wire.prefix(length)))
          _ = try input.readMessageBegin()
        }
      }
    }
  }
}
