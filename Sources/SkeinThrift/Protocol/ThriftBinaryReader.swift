public import NIOCore

#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// Reads the Thrift binary protocol from a `ByteBuffer`, enforcing ``ThriftLimits``.
///
/// Every read checks the bytes that remain before it consumes or allocates anything: a
/// declared length or element count is compared with the limit and with what is actually left
/// in the buffer, so a frame that claims a gigabyte string costs nothing but an error.
///
/// The reader keeps the buffer it was given and reads through a pointer to its bytes: going
/// through `ByteBuffer`'s own read methods costs a storage-class access per value, which was
/// most of the decoding time. The pointer stays valid because the reader holds the buffer
/// (`storage`, a `let`) and never mutates it, so its memory can neither be freed nor moved.
public struct ThriftBinaryReader: @unchecked Sendable {
  /// The buffer the bytes live in; never mutated.
  @usableFromInline
  let storage: ByteBuffer
  /// The first readable byte of `storage`.
  @usableFromInline
  let base: UnsafeRawPointer
  /// Bytes read so far, from `base`.
  @usableFromInline
  var offset: Int
  /// Bytes readable in all, from `base`.
  @usableFromInline
  let end: Int
  /// The limits this reader enforces.
  public let limits: ThriftLimits
  /// How many structs and containers are open around the current position.
  @usableFromInline
  var depth: Int

  /// Creates a reader over `buffer`'s readable bytes.
  @inlinable
  public init(buffer: ByteBuffer, limits: ThriftLimits = .default) {
    self.storage = buffer
    self.base = buffer.withUnsafeReadableBytes { bytes in
      // An empty buffer may have no address; nothing is ever read through this one.
      bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10)!
    }
    self.offset = 0
    self.end = buffer.readableBytes
    self.limits = limits
    self.depth = 0
  }

  /// The bytes not yet read.
  public var buffer: ByteBuffer {
    storage.getSlice(at: storage.readerIndex + offset, length: end - offset) ?? ByteBuffer()
  }

  /// How many bytes are left to read.
  @inlinable
  public var readableBytes: Int { end - offset }

  // MARK: Fixed-size values

  @inlinable
  mutating func readInteger<T: FixedWidthInteger>(_ what: @autoclosure () -> String) throws -> T {
    let size = MemoryLayout<T>.size
    guard end - offset >= size else {
      throw ThriftProtocolError.truncated(what(), needed: size, available: end - offset)
    }
    let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
    offset += size
    return T(bigEndian: value)
  }

  /// Moves past `count` bytes that the caller checked are there.
  @inlinable
  mutating func advance(by count: Int) {
    offset += count
  }

  /// Decodes `length` bytes, which the caller checked are there, as UTF-8.
  @inlinable
  mutating func readUTF8(length: Int) -> String {
    let bytes = UnsafeRawBufferPointer(start: base + offset, count: length)
    offset += length
    return bytes.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
  }

  /// Reads a bool (any nonzero byte is `true`, as Apache Thrift reads it).
  @inlinable
  public mutating func readBool() throws -> Bool {
    let byte: UInt8 = try readInteger("bool")
    return byte != 0
  }

  /// Reads an i8.
  @inlinable
  public mutating func readI8() throws -> Int8 { try readInteger("i8") }

  /// Reads an i16.
  @inlinable
  public mutating func readI16() throws -> Int16 { try readInteger("i16") }

  /// Reads an i32.
  @inlinable
  public mutating func readI32() throws -> Int32 { try readInteger("i32") }

  /// Reads an i64.
  @inlinable
  public mutating func readI64() throws -> Int64 { try readInteger("i64") }

  /// Reads a double.
  @inlinable
  public mutating func readDouble() throws -> Double {
    let bits: UInt64 = try readInteger("double")
    return Double(bitPattern: bits)
  }

  /// Reads a UUID's 16 bytes.
  @inlinable
  public mutating func readUUID() throws -> UUID {
    guard end - offset >= 16 else {
      throw ThriftProtocolError.truncated("uuid", needed: 16, available: end - offset)
    }
    var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &bytes) { raw in
      raw.copyMemory(from: UnsafeRawBufferPointer(start: base + offset, count: 16))
    }
    offset += 16
    return UUID(uuid: bytes)
  }

  /// Reads an enum's i32 value; values the enum does not know are kept, not rejected.
  @inlinable
  public mutating func readEnum<E: ThriftEnum>(_ type: E.Type = E.self) throws -> E {
    E(rawValue: try readInteger("enum"))
  }

  // MARK: Strings

  /// Reads and checks a string or binary length prefix.
  @inlinable
  mutating func readLength(_ what: StaticString) throws -> Int {
    let raw: Int32 = try readInteger("\(what) length")
    let length = Int(raw)
    if length < 0 { throw ThriftProtocolError.negativeSize("\(what)", length) }
    if length > limits.maxStringLength {
      throw ThriftProtocolError.limitExceeded(
        .maxStringLength,
        "\(what) length",
        value: length,
        max: limits.maxStringLength
      )
    }
    if length > readableBytes {
      throw ThriftProtocolError.truncated(
        "\(what)",
        needed: length,
        available: readableBytes
      )
    }
    return length
  }

  /// Reads a string. Bytes that are not valid UTF-8 are repaired with U+FFFD, as Swift's
  /// `String(decoding:as:)` does, rather than failing the whole message.
  @inlinable
  public mutating func readString() throws -> String {
    let length = try readLength("string")
    // readLength checked the bytes are there.
    return readUTF8(length: length)
  }

  /// Reads binary.
  @inlinable
  public mutating func readBinary() throws -> [UInt8] {
    let length = try readLength("binary")
    let bytes = [UInt8](UnsafeRawBufferPointer(start: base + offset, count: length))
    offset += length
    return bytes
  }

  // MARK: Structs

  /// Enters a struct, checking the nesting limit.
  @inlinable
  public mutating func readStructBegin() throws {
    try enter()
  }

  /// Leaves a struct.
  @inlinable
  public mutating func readStructEnd() {
    depth -= 1
  }

  @inlinable
  mutating func enter() throws {
    depth += 1
    if depth > limits.maxNestingDepth {
      throw ThriftProtocolError.limitExceeded(
        .maxNestingDepth,
        "nesting depth",
        value: depth,
        max: limits.maxNestingDepth
      )
    }
  }

  /// Reads the next field header, or `nil` at the end of the struct.
  @inlinable
  public mutating func readFieldBegin() throws -> ThriftFieldHeader? {
    guard end > offset else {
      throw ThriftProtocolError.truncated("field header", needed: 1, available: 0)
    }
    let rawType = base.load(fromByteOffset: offset, as: UInt8.self)
    offset += 1
    if rawType == ThriftType.stop.rawValue { return nil }
    guard let type = ThriftType(rawValue: rawType), type != .void else {
      throw ThriftProtocolError.unknownType(rawType)
    }
    let id: Int16 = try readInteger("field id")
    return ThriftFieldHeader(type: type, id: id)
  }

  /// Reads a struct, union or exception.
  @inlinable
  public mutating func readStruct<S: ThriftStruct>(_ type: S.Type = S.self) throws -> S {
    try S(from: &self)
  }

  // MARK: Containers

  @inlinable
  mutating func readElementType(_ what: StaticString) throws -> ThriftType {
    let raw: UInt8 = try readInteger("\(what) element type")
    guard let type = ThriftType(rawValue: raw), type != .stop, type != .void else {
      throw ThriftProtocolError.unknownType(raw)
    }
    return type
  }

  /// Checks a declared element count against the limit and against the bytes left, given the
  /// smallest wire size one element can have.
  @inlinable
  mutating func checkCount(_ raw: Int32, elementSize: Int, _ what: StaticString) throws -> Int {
    let count = Int(raw)
    if count < 0 { throw ThriftProtocolError.negativeSize("\(what)", count) }
    if count > limits.maxContainerCount {
      throw ThriftProtocolError.limitExceeded(
        .maxContainerCount,
        "\(what) count",
        value: count,
        max: limits.maxContainerCount
      )
    }
    let needed = count * elementSize
    if needed > end - offset {
      throw ThriftProtocolError.truncated(
        "\(what) of \(count) elements",
        needed: needed,
        available: end - offset
      )
    }
    return count
  }

  /// Reads a list header. The count is checked against the limits and the bytes left.
  @inlinable
  public mutating func readListBegin() throws -> (elementType: ThriftType, count: Int) {
    let elementType = try readElementType("list")
    let count = try checkCount(
      try readInteger("list size"),
      elementSize: elementType.minimumWireSize,
      "list"
    )
    return (elementType, count)
  }

  /// Reads a set header. The count is checked against the limits and the bytes left.
  @inlinable
  public mutating func readSetBegin() throws -> (elementType: ThriftType, count: Int) {
    let elementType = try readElementType("set")
    let count = try checkCount(
      try readInteger("set size"),
      elementSize: elementType.minimumWireSize,
      "set"
    )
    return (elementType, count)
  }

  /// Reads a map header. The count is checked against the limits and the bytes left.
  @inlinable
  public mutating func readMapBegin() throws -> (
    keyType: ThriftType, valueType: ThriftType, count: Int
  ) {
    let keyType = try readElementType("map key")
    let valueType = try readElementType("map value")
    let size = keyType.minimumWireSize + valueType.minimumWireSize
    let count = try checkCount(try readInteger("map size"), elementSize: size, "map")
    return (keyType, valueType, count)
  }

  @inlinable
  func checkElementType(
    _ actual: ThriftType,
    _ expected: ThriftType,
    count: Int,
    _ what: StaticString
  )
    throws
  {
    // Some peers write an empty container's element type carelessly; nothing is read, so allow it.
    if actual != expected && count > 0 {
      throw ThriftProtocolError.invalidData("\(what) of \(actual), expected \(expected)")
    }
  }

  /// Reads a list whose elements must be of `elementType`, each with `readElement`.
  @inlinable
  public mutating func readList<Element>(
    of elementType: ThriftType,
    _ readElement: (inout ThriftBinaryReader) throws -> Element
  ) throws -> [Element] {
    let (actual, count) = try readListBegin()
    try checkElementType(actual, elementType, count: count, "list")
    try enter()
    var list: [Element] = []
    list.reserveCapacity(count)
    for _ in 0..<count { list.append(try readElement(&self)) }
    depth -= 1
    return list
  }

  /// Reads a set whose elements must be of `elementType`, each with `readElement`.
  @inlinable
  public mutating func readSet<Element: Hashable>(
    of elementType: ThriftType,
    _ readElement: (inout ThriftBinaryReader) throws -> Element
  ) throws -> Set<Element> {
    let (actual, count) = try readSetBegin()
    try checkElementType(actual, elementType, count: count, "set")
    try enter()
    var set = Set<Element>(minimumCapacity: count)
    for _ in 0..<count { set.insert(try readElement(&self)) }
    depth -= 1
    return set
  }

  /// Reads a map whose keys and values must be of the given types.
  @inlinable
  public mutating func readMap<Key: Hashable, Value>(
    of keyType: ThriftType,
    _ valueType: ThriftType,
    _ readEntry: (inout ThriftBinaryReader) throws -> (Key, Value)
  ) throws -> [Key: Value] {
    let (actualKey, actualValue, count) = try readMapBegin()
    try checkElementType(actualKey, keyType, count: count, "map key")
    try checkElementType(actualValue, valueType, count: count, "map value")
    try enter()
    var map = [Key: Value](minimumCapacity: count)
    for _ in 0..<count {
      let (key, value) = try readEntry(&self)
      map[key] = value
    }
    depth -= 1
    return map
  }
}
