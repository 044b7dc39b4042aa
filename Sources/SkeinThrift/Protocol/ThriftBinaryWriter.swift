public import NIOCore

#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// Writes the Thrift binary protocol straight into a `ByteBuffer`.
///
/// Generated code calls these methods field by field; nothing is staged in an intermediate
/// representation. Every method is inlinable so that a generated `write(to:)` compiles down to
/// stores into the buffer.
///
/// Writing never fails: sizes are checked where the bytes leave the process (the frame encoder
/// enforces ``ThriftLimits/maxFrameSize``).
public struct ThriftBinaryWriter: Sendable {
  /// The bytes written so far.
  public var buffer: ByteBuffer
  /// Whether maps and sets are written in a canonical order (keys and elements sorted) where
  /// their element type is `Comparable`, so the same value always encodes to the same bytes.
  /// Off by default: Thrift maps and sets are unordered and sorting costs time.
  public var deterministic: Bool

  /// Creates a writer appending to `buffer`.
  @inlinable
  public init(buffer: ByteBuffer, deterministic: Bool = false) {
    self.buffer = buffer
    self.deterministic = deterministic
  }

  /// Creates a writer with a new buffer of the given capacity.
  @inlinable
  public init(capacity: Int = 256, deterministic: Bool = false) {
    self.init(
      buffer: ByteBufferAllocator().buffer(capacity: capacity),
      deterministic: deterministic
    )
  }

  // MARK: Messages and structs

  /// Writes a strict (versioned) message header.
  @inlinable
  public mutating func writeMessageBegin(_ header: ThriftMessageHeader) {
    let version = Int32(bitPattern: 0x8001_0000 | UInt32(header.type.rawValue))
    buffer.writeInteger(version)
    writeString(header.name)
    buffer.writeInteger(header.sequenceID)
  }

  /// Writes a field header: type id, then field id.
  @inlinable
  public mutating func writeFieldBegin(_ type: ThriftType, id: Int16) {
    buffer.writeMultipleIntegers(type.rawValue, id)
  }

  /// Ends a struct's field list.
  @inlinable
  public mutating func writeFieldStop() {
    buffer.writeInteger(ThriftType.stop.rawValue)
  }

  // MARK: Scalars

  /// Writes a bool as one byte, 1 or 0.
  @inlinable
  public mutating func writeBool(_ value: Bool) {
    buffer.writeInteger(value ? 1 as UInt8 : 0)
  }

  /// Writes an i8 (IDL `byte`).
  @inlinable
  public mutating func writeI8(_ value: Int8) { buffer.writeInteger(value) }

  /// Writes a big-endian i16.
  @inlinable
  public mutating func writeI16(_ value: Int16) { buffer.writeInteger(value) }

  /// Writes a big-endian i32.
  @inlinable
  public mutating func writeI32(_ value: Int32) { buffer.writeInteger(value) }

  /// Writes a big-endian i64.
  @inlinable
  public mutating func writeI64(_ value: Int64) { buffer.writeInteger(value) }

  /// Writes a double as its IEEE 754 bits, big-endian.
  @inlinable
  public mutating func writeDouble(_ value: Double) { buffer.writeInteger(value.bitPattern) }

  /// Writes a string: its UTF-8 length as i32, then the bytes.
  @inlinable
  public mutating func writeString(_ value: String) {
    // A native Swift string knows its UTF-8 count without a scan.
    buffer.writeInteger(Int32(truncatingIfNeeded: value.utf8.count))
    buffer.writeString(value)
  }

  /// Writes binary: its length as i32, then the bytes.
  @inlinable
  public mutating func writeBinary(_ value: [UInt8]) {
    buffer.writeInteger(Int32(truncatingIfNeeded: value.count))
    buffer.writeBytes(value)
  }

  /// Writes a UUID as its 16 bytes in network order.
  @inlinable
  public mutating func writeUUID(_ value: UUID) {
    _ = withUnsafeBytes(of: value.uuid) { buffer.writeBytes($0) }
  }

  /// Writes an enum's i32 value.
  @inlinable
  public mutating func writeEnum<E: ThriftEnum>(_ value: E) {
    buffer.writeInteger(value.rawValue)
  }

  /// Writes a struct, union or exception.
  @inlinable
  public mutating func writeStruct<S: ThriftStruct>(_ value: S) {
    value.write(to: &self)
  }

  // MARK: Containers

  /// Writes a list header: element type and count.
  @inlinable
  public mutating func writeListBegin(_ elementType: ThriftType, count: Int) {
    buffer.writeMultipleIntegers(elementType.rawValue, Int32(truncatingIfNeeded: count))
  }

  /// Writes a set header: element type and count.
  @inlinable
  public mutating func writeSetBegin(_ elementType: ThriftType, count: Int) {
    writeListBegin(elementType, count: count)
  }

  /// Writes a map header: key type, value type and count.
  @inlinable
  public mutating func writeMapBegin(_ keyType: ThriftType, _ valueType: ThriftType, count: Int) {
    buffer.writeMultipleIntegers(
      keyType.rawValue,
      valueType.rawValue,
      Int32(truncatingIfNeeded: count)
    )
  }

  /// Writes a list: header, then each element with `writeElement`.
  @inlinable
  public mutating func writeList<Element>(
    _ list: [Element],
    of elementType: ThriftType,
    _ writeElement: (inout ThriftBinaryWriter, Element) -> Void
  ) {
    writeListBegin(elementType, count: list.count)
    for element in list { writeElement(&self, element) }
  }

  /// Writes a set in its own iteration order.
  @inlinable
  public mutating func writeSet<Element>(
    _ set: Set<Element>,
    of elementType: ThriftType,
    _ writeElement: (inout ThriftBinaryWriter, Element) -> Void
  ) {
    writeSetBegin(elementType, count: set.count)
    for element in set { writeElement(&self, element) }
  }

  /// Writes a set; sorted when ``deterministic`` is on.
  @inlinable
  public mutating func writeSet<Element: Comparable>(
    _ set: Set<Element>,
    of elementType: ThriftType,
    _ writeElement: (inout ThriftBinaryWriter, Element) -> Void
  ) {
    writeSetBegin(elementType, count: set.count)
    if deterministic {
      for element in set.sorted() { writeElement(&self, element) }
    } else {
      for element in set { writeElement(&self, element) }
    }
  }

  /// Writes a map in its own iteration order.
  @inlinable
  public mutating func writeMap<Key, Value>(
    _ map: [Key: Value],
    of keyType: ThriftType,
    _ valueType: ThriftType,
    _ writeEntry: (inout ThriftBinaryWriter, Key, Value) -> Void
  ) {
    writeMapBegin(keyType, valueType, count: map.count)
    for (key, value) in map { writeEntry(&self, key, value) }
  }

  /// Writes a map; in key order when ``deterministic`` is on.
  @inlinable
  public mutating func writeMap<Key: Comparable, Value>(
    _ map: [Key: Value],
    of keyType: ThriftType,
    _ valueType: ThriftType,
    _ writeEntry: (inout ThriftBinaryWriter, Key, Value) -> Void
  ) {
    writeMapBegin(keyType, valueType, count: map.count)
    if deterministic {
      for (key, value) in map.sorted(by: { $0.key < $1.key }) { writeEntry(&self, key, value) }
    } else {
      for (key, value) in map { writeEntry(&self, key, value) }
    }
  }
}
