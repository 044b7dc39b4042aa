import Foundation
import NIOCore
import SkeinThrift
import Testing

// Each scalar is checked twice: against the bytes the binary protocol spec prescribes
// (big-endian, fixed widths, i32 length prefixes) and by reading those bytes back.

@Suite("Primitive coding")
struct PrimitiveCodingTests {
  @Test("bool is one byte, 1 or 0")
  func boolWireBytes() throws {
    #expect(written { $0.writeBool(true) } == [0x01])
    #expect(written { $0.writeBool(false) } == [0x00])
    var input = reader([0x01, 0x00])
    #expect(try input.readBool() == true)
    #expect(try input.readBool() == false)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("any nonzero bool byte reads as true")
  func boolNonzeroIsTrue() throws {
    for byte: UInt8 in [0x02, 0x7f, 0x80, 0xff] {
      var input = reader([byte])
      #expect(try input.readBool() == true)
    }
  }

  @Test(
    "i8 is one two's-complement byte",
    arguments: [(0, 0x00), (1, 0x01), (-1, 0xff), (.max, 0x7f), (.min, 0x80)] as [(Int8, UInt8)]
  )
  func i8WireBytes(value: Int8, byte: UInt8) throws {
    #expect(written { $0.writeI8(value) } == [byte])
    var input = reader([byte])
    #expect(try input.readI8() == value)
  }

  @Test(
    "i16 is two big-endian bytes",
    arguments: [
      (0x0102, [0x01, 0x02]), (-2, [0xff, 0xfe]), (.max, [0x7f, 0xff]), (.min, [0x80, 0x00]),
      (0, [0x00, 0x00]),
    ] as [(Int16, [UInt8])]
  )
  func i16WireBytes(value: Int16, wire: [UInt8]) throws {
    #expect(written { $0.writeI16(value) } == wire)
    var input = reader(wire)
    #expect(try input.readI16() == value)
  }

  @Test(
    "i32 is four big-endian bytes",
    arguments: [
      (0x0102_0304, [0x01, 0x02, 0x03, 0x04]), (-1, [0xff, 0xff, 0xff, 0xff]),
      (.max, [0x7f, 0xff, 0xff, 0xff]), (.min, [0x80, 0x00, 0x00, 0x00]), (256, [0, 0, 1, 0]),
    ] as [(Int32, [UInt8])]
  )
  func i32WireBytes(value: Int32, wire: [UInt8]) throws {
    #expect(written { $0.writeI32(value) } == wire)
    var input = reader(wire)
    #expect(try input.readI32() == value)
  }

  @Test(
    "i64 is eight big-endian bytes",
    arguments: [
      (0x0102_0304_0506_0708, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]),
      (-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      (.max, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      (.min, [0x80, 0, 0, 0, 0, 0, 0, 0]),
      (1 << 32, [0, 0, 0, 1, 0, 0, 0, 0]),
    ] as [(Int64, [UInt8])]
  )
  func i64WireBytes(value: Int64, wire: [UInt8]) throws {
    #expect(written { $0.writeI64(value) } == wire)
    var input = reader(wire)
    #expect(try input.readI64() == value)
  }

  @Test(
    "double is its IEEE 754 bits, big-endian",
    arguments: [
      (1.0, [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
      (-2.5, [0xc0, 0x04, 0, 0, 0, 0, 0, 0]),
      (0.0, [0, 0, 0, 0, 0, 0, 0, 0]),
      (-0.0, [0x80, 0, 0, 0, 0, 0, 0, 0]),
      (.infinity, [0x7f, 0xf0, 0, 0, 0, 0, 0, 0]),
      (-.infinity, [0xff, 0xf0, 0, 0, 0, 0, 0, 0]),
      (.pi, [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]),
      (.leastNonzeroMagnitude, [0, 0, 0, 0, 0, 0, 0, 0x01]),
      (.greatestFiniteMagnitude, [0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ] as [(Double, [UInt8])]
  )
  func doubleWireBytes(value: Double, wire: [UInt8]) throws {
    #expect(written { $0.writeDouble(value) } == wire)
    var input = reader(wire)
    let read = try input.readDouble()
    #expect(read.bitPattern == value.bitPattern)
  }

  @Test("-0.0 keeps its sign through a round trip")
  func negativeZeroKeepsSign() throws {
    var input = reader(written { $0.writeDouble(-0.0) })
    let read = try input.readDouble()
    #expect(read == 0)
    #expect(read.sign == .minus)
  }

  @Test(
    "NaN bit patterns survive exactly, payload and sign included",
    arguments: [
      0x7ff8_0000_0000_0000,  // the canonical quiet NaN
      0xfff8_0000_0000_0000,  // negative quiet NaN
      0x7ff0_0000_0000_0001,  // signaling NaN
      0x7ff8_dead_beef_0001,  // quiet NaN with a payload
    ] as [UInt64]
  )
  func nanBitPatterns(bits: UInt64) throws {
    let nan = Double(bitPattern: bits)
    #expect(nan.isNaN)
    let wire = written { $0.writeDouble(nan) }
    #expect(wire == be64(Int64(bitPattern: bits)))
    var input = reader(wire)
    let read = try input.readDouble()
    #expect(read.isNaN)
    #expect(read.bitPattern == bits)
  }

  @Test("Double.nan writes the canonical quiet NaN")
  func standardNaNBytes() {
    #expect(written { $0.writeDouble(.nan) } == [0x7f, 0xf8, 0, 0, 0, 0, 0, 0])
  }

  @Test(
    "string is an i32 byte length, then UTF-8",
    arguments: [
      ("", [0, 0, 0, 0]),
      ("abc", [0, 0, 0, 3, 0x61, 0x62, 0x63]),
      ("héllo", [0, 0, 0, 6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]),
      ("日本", [0, 0, 0, 6, 0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac]),
      ("🙂", [0, 0, 0, 4, 0xf0, 0x9f, 0x99, 0x82]),
      ("a\u{0}b", [0, 0, 0, 3, 0x61, 0x00, 0x62]),
    ] as [(String, [UInt8])]
  )
  func stringWireBytes(value: String, wire: [UInt8]) throws {
    #expect(written { $0.writeString(value) } == wire)
    var input = reader(wire)
    #expect(try input.readString() == value)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a string's length counts bytes, not characters")
  func stringLengthCountsBytes() throws {
    let value = "e\u{301}👩‍👩‍👧"  // combining accent and a ZWJ family: 2 characters
    let wire = written { $0.writeString(value) }
    #expect(wire.prefix(4) == be32(Int32(value.utf8.count))[...])
    #expect(value.count == 2)
    var input = reader(wire)
    #expect(try input.readString() == value)
  }

  @Test("a long string round-trips")
  func longString() throws {
    let value = String(repeating: "skein ", count: 20_000)
    var input = reader(written { $0.writeString(value) })
    #expect(try input.readString() == value)
  }

  @Test("invalid UTF-8 is repaired with U+FFFD, not rejected, and consumes its declared bytes")
  func invalidUTF8IsRepaired() throws {
    var input = reader(be32(3) + [0x61, 0xff, 0x62] + be32(2) + [0xe6, 0x97] + be32(7))
    #expect(try input.readString() == "a\u{FFFD}b")
    let truncatedSequence = try input.readString()
    #expect(truncatedSequence.unicodeScalars.allSatisfy { $0 == "\u{FFFD}" })
    #expect(!truncatedSequence.isEmpty)
    #expect(try input.readI32() == 7)
  }

  @Test("an overlong encoding and a lone surrogate are repaired")
  func overlongAndSurrogateAreRepaired() throws {
    // 0xC0 0xAF is an overlong "/", 0xED 0xA0 0x80 an encoded surrogate: both are invalid.
    var input = reader(be32(2) + [0xc0, 0xaf] + be32(3) + [0xed, 0xa0, 0x80])
    let overlong = try input.readString()
    #expect(!overlong.contains("/"))
    #expect(overlong.unicodeScalars.contains("\u{FFFD}"))
    let surrogate = try input.readString()
    #expect(surrogate.unicodeScalars.contains("\u{FFFD}"))
  }

  @Test(
    "binary is an i32 length, then the bytes as they are",
    arguments: [
      ([], [0, 0, 0, 0]),
      ([0x00, 0xff, 0x80], [0, 0, 0, 3, 0x00, 0xff, 0x80]),
      ([0xc0, 0xaf, 0xed, 0xa0, 0x80], [0, 0, 0, 5, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
    ] as [([UInt8], [UInt8])]
  )
  func binaryWireBytes(value: [UInt8], wire: [UInt8]) throws {
    #expect(written { $0.writeBinary(value) } == wire)
    var input = reader(wire)
    #expect(try input.readBinary() == value)
  }

  @Test("binary and string share a wire form")
  func binaryAndStringShareWireForm() throws {
    #expect(
      written { $0.writeBinary(Array("thrift".utf8)) } == written { $0.writeString("thrift") }
    )
    var input = reader(written { $0.writeString("thrift") })
    #expect(try input.readBinary() == Array("thrift".utf8))
  }

  @Test("a uuid is its 16 bytes, in the order they are written")
  func uuidWireBytes() throws {
    let uuid = try #require(UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF"))
    let wire: [UInt8] = [
      0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    ]
    #expect(written { $0.writeUUID(uuid) } == wire)
    var input = reader(wire)
    #expect(try input.readUUID() == uuid)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("random uuids round-trip byte for byte")
  func uuidRoundTrips() throws {
    var random = SplitMix64(seed: 0x5eed)
    for _ in 0..<64 {
      let raw = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
      let uuid = UUID(
        uuid: (
          raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
          raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]
        )
      )
      #expect(written { $0.writeUUID(uuid) } == raw)
      var input = reader(raw)
      #expect(try input.readUUID() == uuid)
    }
  }

  @Test("an enum is its i32 value")
  func enumWireBytes() throws {
    #expect(written { $0.writeEnum(Color.green) } == [0, 0, 0, 2])
    var input = reader([0, 0, 0, 3])
    #expect(try input.readEnum(Color.self) == .blue)
  }

  @Test(
    "unknown enum values are kept, and written back unchanged",
    arguments: [Int32(99), -5, .max]
  )
  func unknownEnumValuesAreKept(raw: Int32) throws {
    var input = reader(be32(raw))
    let color: Color = try input.readEnum()
    #expect(color.rawValue == raw)
    #expect(written { $0.writeEnum(color) } == be32(raw))
  }

  @Test("enums order by wire value")
  func enumOrdering() {
    #expect(Color.red < Color.green)
    #expect(Color(rawValue: -1) < Color.red)
    #expect([Color.blue, .red, Color(rawValue: 0)].sorted() == [Color(rawValue: 0), .red, .blue])
  }

  @Test("reads consume exactly their bytes, in sequence")
  func sequentialReads() throws {
    let wire = written {
      $0.writeBool(true)
      $0.writeI8(-2)
      $0.writeI16(300)
      $0.writeI32(-70_000)
      $0.writeI64(1 << 40)
      $0.writeDouble(0.25)
      $0.writeString("x")
      $0.writeBinary([9])
    }
    #expect(wire.count == 1 + 1 + 2 + 4 + 8 + 8 + 5 + 5)
    var input = reader(wire)
    #expect(try input.readBool())
    #expect(try input.readI8() == -2)
    #expect(try input.readI16() == 300)
    #expect(try input.readI32() == -70_000)
    #expect(try input.readI64() == 1 << 40)
    #expect(try input.readDouble() == 0.25)
    #expect(try input.readString() == "x")
    #expect(try input.readBinary() == [9])
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a writer appends to a buffer, grows past its capacity, and can be reused")
  func writerAppendsGrowsAndClears() {
    var writer = ThriftBinaryWriter(capacity: 1)
    writer.writeRawBytes([0xaa])
    writer.writeI16(1)
    var buffer = ByteBuffer(bytes: [0x01])
    writer.write(into: &buffer)
    #expect(bytes(of: buffer) == [0x01, 0xaa, 0x00, 0x01])
    let long = String(repeating: "x", count: 1000)
    writer.writeString(long)
    #expect(writer.count == 3 + 4 + 1000)
    #expect(writer.bytes.suffix(1000) == Array(long.utf8))
    writer.clear()
    writer.writeI8(-1)
    #expect(writer.bytes == [0xff])
  }

  @Test("type ids match the spec")
  func typeIDs() {
    let expected: [(ThriftType, UInt8, String)] = [
      (.stop, 0, "stop"), (.void, 1, "void"), (.bool, 2, "bool"), (.i8, 3, "i8"),
      (.double, 4, "double"), (.i16, 6, "i16"), (.i32, 8, "i32"), (.i64, 10, "i64"),
      (.string, 11, "string"), (.struct, 12, "struct"), (.map, 13, "map"), (.set, 14, "set"),
      (.list, 15, "list"), (.uuid, 16, "uuid"),
    ]
    for (type, raw, name) in expected {
      #expect(type.rawValue == raw)
      #expect(type.description == name)
      #expect(ThriftType(rawValue: raw) == type)
    }
    for raw: UInt8 in [5, 7, 9, 17, 255] {
      #expect(ThriftType(rawValue: raw) == nil)
    }
  }
}
