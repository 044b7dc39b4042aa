import NIOCore
import SkeinThrift
import Testing

// Helpers shared by the codec tests: byte builders for hand-written wire data, a seeded random
// generator, and an expectation that names the protocol error a body must throw.

/// The readable bytes of a buffer.
func bytes(of buffer: ByteBuffer) -> [UInt8] {
  Array(buffer.readableBytesView)
}

/// The bytes a writer produces.
func written(deterministic: Bool = false, _ body: (inout ThriftBinaryWriter) -> Void) -> [UInt8] {
  var writer = ThriftBinaryWriter(deterministic: deterministic)
  body(&writer)
  return bytes(of: writer.buffer)
}

/// A reader over the given bytes.
func reader(_ bytes: [UInt8], limits: ThriftLimits = .default) -> ThriftBinaryReader {
  ThriftBinaryReader(buffer: ByteBuffer(bytes: bytes), limits: limits)
}

/// Big-endian bytes of an i16, as the binary protocol writes it.
func be16(_ value: Int16) -> [UInt8] {
  let bits = UInt16(bitPattern: value)
  return [UInt8(bits >> 8), UInt8(bits & 0xff)]
}

/// Big-endian bytes of an i32.
func be32(_ value: Int32) -> [UInt8] {
  let bits = UInt32(bitPattern: value)
  return (0..<4).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt32($0))) }
}

/// Big-endian bytes of a u32 given as a bit pattern (for version words such as 0x8001_0001).
func be32(bits: UInt32) -> [UInt8] {
  be32(Int32(bitPattern: bits))
}

/// Big-endian bytes of an i64.
func be64(_ value: Int64) -> [UInt8] {
  let bits = UInt64(bitPattern: value)
  return (0..<8).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
}

/// A string on the wire: i32 length, then the UTF-8 bytes.
func wireString(_ value: String) -> [UInt8] {
  be32(Int32(value.utf8.count)) + Array(value.utf8)
}

/// A field header on the wire: type id, then big-endian field id.
func fieldHeader(_ type: ThriftType, _ id: Int16) -> [UInt8] {
  [type.rawValue] + be16(id)
}

/// A list or set header on the wire.
func listHeader(_ elementType: ThriftType, _ count: Int32) -> [UInt8] {
  [elementType.rawValue] + be32(count)
}

/// A map header on the wire.
func mapHeader(_ keyType: ThriftType, _ valueType: ThriftType, _ count: Int32) -> [UInt8] {
  [keyType.rawValue, valueType.rawValue] + be32(count)
}

/// Expects `body` to throw a ``ThriftProtocolError`` with the given code, and, when given, the
/// given limit and value.
@discardableResult
func expectProtocolError(
  _ code: ThriftProtocolError.Code,
  limit: ThriftLimit? = nil,
  value: Int64? = nil,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) -> ThriftProtocolError? {
  let error = #expect(throws: ThriftProtocolError.self, sourceLocation: sourceLocation) {
    try body()
  }
  guard let error else { return nil }
  #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
  if let limit {
    #expect(error.limit == limit, "\(error)", sourceLocation: sourceLocation)
  }
  if let value {
    #expect(error.value == value, "\(error)", sourceLocation: sourceLocation)
  }
  return error
}

/// SplitMix64: a small, fast, seedable generator, so the fuzz loops are reproducible.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
