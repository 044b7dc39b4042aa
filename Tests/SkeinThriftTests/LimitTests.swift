import NIOCore
import SkeinThrift
import Testing

// Every limit is checked against the declared size before anything is allocated or read for
// the value; the error names the limit and the size seen.

@Suite("Limits")
struct LimitTests {
  @Test("the default limits are as documented")
  func defaults() {
    let limits = ThriftLimits.default
    #expect(limits.maxFrameSize == 16 * 1024 * 1024)
    #expect(limits.maxStringLength == 16 * 1024 * 1024)
    #expect(limits.maxContainerCount == 1 << 20)
    #expect(limits.maxNestingDepth == 64)
    #expect(ThriftLimits() == limits)
    #expect(ThriftLimit.maxNestingDepth.description == "maxNestingDepth")
    #expect(ThriftLimit.maxFrameSize.rawValue == "maxFrameSize")
  }

  // MARK: Strings

  @Test("a string claiming 2 GiB in a 10-byte buffer breaks maxStringLength")
  func hugeString() throws {
    let wire = be32(.max) + Array("abcdef".utf8)
    #expect(wire.count == 10)
    let error = expectProtocolError(
      .limitExceeded,
      limit: .maxStringLength,
      value: Int64(Int32.max)
    ) {
      var input = reader(wire)
      _ = try input.readString()
    }
    #expect(error?.message.contains("maxStringLength") == true)
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: Int64(Int32.max)) {
      var input = reader(wire)
      _ = try input.readBinary()
    }
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: Int64(Int32.max)) {
      var input = reader(wire)
      try input.skip(.string)
    }
  }

  @Test("a string within the limit but longer than the bytes left is truncated")
  func stringLongerThanBuffer() throws {
    expectProtocolError(.truncated, value: 1000) {
      var input = reader(be32(1000) + Array("abc".utf8))
      _ = try input.readString()
    }
    expectProtocolError(.truncated, value: 1000) {
      var input = reader(be32(1000) + Array("abc".utf8))
      try input.skip(.string)
    }
  }

  @Test("a custom string limit admits its length and rejects one more")
  func customStringLimit() throws {
    let limits = ThriftLimits(maxStringLength: 5)
    var input = reader(wireString("12345"), limits: limits)
    #expect(try input.readString() == "12345")
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 6) {
      var input = reader(wireString("123456"), limits: limits)
      _ = try input.readString()
    }
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 6) {
      var input = reader(written { $0.writeBinary([1, 2, 3, 4, 5, 6]) }, limits: limits)
      _ = try input.readBinary()
    }
    expectProtocolError(.limitExceeded, limit: .maxStringLength, value: 6) {
      var input = reader(wireString("123456"), limits: limits)
      try input.skip(.string)
    }
  }

  // MARK: Containers

  @Test("a list claiming 1<<30 elements breaks maxContainerCount before any is read")
  func hugeList() throws {
    let wire = listHeader(.i32, 1 << 30) + be32(1)
    var reads = 0
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: 1 << 30) {
      var input = reader(wire)
      _ = try input.readList(of: .i32) { reader -> Int32 in
        reads += 1
        return try reader.readI32()
      }
    }
    #expect(reads == 0)
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: 1 << 30) {
      var input = reader(wire)
      _ = try input.readListBegin()
    }
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: 1 << 30) {
      var input = reader(wire)
      try input.skip(.list)
    }
  }

  @Test("a set claiming more than maxContainerCount breaks it")
  func hugeSet() throws {
    let wire = listHeader(.string, Int32(1 << 20) + 1)
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: (1 << 20) + 1) {
      var input = reader(wire)
      _ = try input.readSet(of: .string) { try $0.readString() }
    }
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: (1 << 20) + 1) {
      var input = reader(wire)
      try input.skip(.set)
    }
  }

  @Test("a map over maxContainerCount breaks it; one at the limit is read")
  func mapOverLimit() throws {
    let limits = ThriftLimits(maxContainerCount: 4)
    let entries = (0..<5).flatMap { be32(Int32($0)) + be32(Int32($0)) }
    var input = reader(mapHeader(.i32, .i32, 4) + entries.prefix(32), limits: limits)
    let map: [Int32: Int32] = try input.readMap(of: .i32, .i32) {
      (try $0.readI32(), try $0.readI32())
    }
    #expect(map.count == 4)

    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: 5) {
      var input = reader(mapHeader(.i32, .i32, 5) + entries, limits: limits)
      let _: [Int32: Int32] = try input.readMap(of: .i32, .i32) {
        (try $0.readI32(), try $0.readI32())
      }
    }
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: 5) {
      var input = reader(mapHeader(.i32, .i32, 5) + entries, limits: limits)
      try input.skip(.map)
    }
    expectProtocolError(.limitExceeded, limit: .maxContainerCount, value: Int64(Int32.max)) {
      var input = reader(mapHeader(.string, .struct, .max))
      _ = try input.readMapBegin()
    }
  }

  @Test("a count within the limit but more than the bytes left can hold is truncated")
  func countLongerThanBuffer() throws {
    // 1<<20 structs need at least 1<<20 bytes (a stop byte each); 10 are there.
    var reads = 0
    expectProtocolError(.truncated, value: 1 << 20) {
      var input = reader(listHeader(.struct, 1 << 20) + Array(repeating: 0, count: 10))
      _ = try input.readList(of: .struct) { reader -> Address in
        reads += 1
        return try reader.readStruct()
      }
    }
    #expect(reads == 0)
    // 1000 i64 need 8000 bytes.
    expectProtocolError(.truncated, value: 8000) {
      var input = reader(listHeader(.i64, 1000) + be64(1))
      try input.skip(.list)
    }
    // Map entries need at least a key and a value: i32 + string = 8 bytes each.
    expectProtocolError(.truncated, value: 80) {
      var input = reader(mapHeader(.i32, .string, 10) + Array(repeating: 0, count: 79))
      _ = try input.readMapBegin()
    }
    // Nested empty lists need at least their 5-byte header each.
    expectProtocolError(.truncated, value: 500) {
      var input = reader(listHeader(.list, 100) + Array(repeating: 0, count: 499))
      _ = try input.readSetBegin()
    }
  }

  // MARK: Negative sizes

  @Test("negative lengths and counts are rejected", arguments: [Int32(-1), -1000, .min])
  func negativeSizes(size: Int32) throws {
    let value = Int64(size)
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(be32(size) + [0, 0, 0, 0])
      _ = try input.readString()
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(be32(size) + [0, 0, 0, 0])
      _ = try input.readBinary()
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(be32(size))
      try input.skip(.string)
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(listHeader(.i32, size))
      _ = try input.readList(of: .i32) { try $0.readI32() }
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(listHeader(.i32, size))
      try input.skip(.list)
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(listHeader(.string, size))
      _ = try input.readSet(of: .string) { try $0.readString() }
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(listHeader(.string, size))
      try input.skip(.set)
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(mapHeader(.i8, .i8, size))
      let _: [Int8: Int8] = try input.readMap(of: .i8, .i8) { (try $0.readI8(), try $0.readI8()) }
    }
    expectProtocolError(.negativeSize, value: value) {
      var input = reader(mapHeader(.i8, .i8, size))
      try input.skip(.map)
    }
  }

  // MARK: Unknown types

  @Test(
    "unknown field type ids are rejected with the id seen",
    arguments: [UInt8(1), 5, 7, 9, 17, 0x80, 0xff]
  )
  func unknownFieldType(raw: UInt8) throws {
    expectProtocolError(.unknownType, value: Int64(raw)) {
      var input = reader([raw, 0x00, 0x01, 0, 0, 0, 0, 0x00])
      _ = try input.readFieldBegin()
    }
    expectProtocolError(.unknownType, value: Int64(raw)) {
      _ = try PersonV1(decoding: [raw, 0x00, 0x01, 0, 0, 0, 0, 0x00])
    }
  }

  @Test("unknown or stop element types are rejected", arguments: [UInt8(0), 1, 5, 0x20])
  func unknownElementType(raw: UInt8) throws {
    expectProtocolError(.unknownType, value: Int64(raw)) {
      var input = reader([raw, 0, 0, 0, 0])
      _ = try input.readListBegin()
    }
    expectProtocolError(.unknownType, value: Int64(raw)) {
      var input = reader([raw, 0, 0, 0, 0])
      _ = try input.readSetBegin()
    }
    expectProtocolError(.unknownType, value: Int64(raw)) {
      var input = reader([raw, 0x08, 0, 0, 0, 0])
      _ = try input.readMapBegin()
    }
    expectProtocolError(.unknownType, value: Int64(raw)) {
      var input = reader([0x08, raw, 0, 0, 0, 0])
      _ = try input.readMapBegin()
    }
  }

  // MARK: Truncation

  @Test("every prefix of a valid message fails as truncated, and the whole message reads")
  func everyPrefixIsTruncated() throws {
    var writer = ThriftBinaryWriter()
    writer.writeMessageBegin(ThriftMessageHeader(name: "update", type: .call, sequenceID: 17))
    writer.writeStruct(PersonV2.sample)
    let wire = bytes(of: writer.buffer)

    var whole = reader(wire)
    _ = try whole.readMessageBegin()
    #expect(try PersonV2(from: &whole) == PersonV2.sample)
    #expect(whole.buffer.readableBytes == 0)

    for length in 0..<wire.count {
      let prefix = Array(wire.prefix(length))
      expectProtocolError(.truncated) {
        var input = reader(prefix)
        _ = try input.readMessageBegin()
        _ = try PersonV2(from: &input)
      }
      expectProtocolError(.truncated) {
        var input = reader(prefix)
        _ = try input.readMessageBegin()
        try input.skip(.struct)
      }
      expectProtocolError(.truncated) {
        var input = reader(prefix)
        _ = try input.readMessageBegin()
        _ = try PersonV1(from: &input)
      }
    }
  }

  @Test("reads of fixed-size values on short input are truncated, naming the bytes needed")
  func shortFixedSizeReads() throws {
    expectProtocolError(.truncated, value: 1) {
      var input = reader([])
      _ = try input.readBool()
    }
    expectProtocolError(.truncated, value: 2) {
      var input = reader([1])
      _ = try input.readI16()
    }
    expectProtocolError(.truncated, value: 4) {
      var input = reader([1, 2, 3])
      _ = try input.readI32()
    }
    expectProtocolError(.truncated, value: 8) {
      var input = reader([1, 2, 3, 4, 5, 6, 7])
      _ = try input.readI64()
    }
    expectProtocolError(.truncated, value: 8) {
      var input = reader([1, 2, 3, 4])
      _ = try input.readDouble()
    }
    expectProtocolError(.truncated, value: 16) {
      var input = reader(Array(repeating: 0, count: 15))
      _ = try input.readUUID()
    }
    expectProtocolError(.truncated, value: 4) {
      var input = reader([0, 0])
      _ = try input.readEnum(Color.self)
    }
  }

  // MARK: Errors

  @Test("protocol errors describe themselves")
  func errorDescriptions() {
    let error = ThriftProtocolError.limitExceeded(
      .maxStringLength,
      "string length",
      value: 9,
      max: 8
    )
    #expect(error.code == .limitExceeded)
    #expect(error.limit == .maxStringLength)
    #expect(error.value == 9)
    #expect(error.description == "limitExceeded: string length of 9 exceeds maxStringLength (8)")
    let codes: [(ThriftProtocolError.Code, String)] = [
      (.truncated, "truncated"), (.negativeSize, "negativeSize"), (.limitExceeded, "limitExceeded"),
      (.unknownType, "unknownType"), (.badVersion, "badVersion"), (.invalidData, "invalidData"),
      (.missingRequiredField, "missingRequiredField"),
    ]
    for (code, name) in codes { #expect(code.description == name) }
    #expect(Set(codes.map(\.0.description)).count == codes.count)
    let missing = ThriftProtocolError.missingRequiredField("text", in: "echo_args")
    #expect(missing.code == .missingRequiredField)
    #expect(missing.message.contains("text") && missing.message.contains("echo_args"))
  }
}
