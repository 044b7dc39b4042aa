public import NIOCore

#if canImport(FoundationEssentials)
  public import FoundationEssentials
#else
  public import Foundation
#endif

/// Writes the Thrift binary protocol into memory it owns.
///
/// Generated code calls these methods field by field; nothing is staged in an intermediate
/// representation. Every method is inlinable, so a generated `write(to:)` compiles down to
/// capacity checks and stores. The writer owns a plain block of memory rather than a
/// `ByteBuffer` because each `ByteBuffer` write goes through its storage class (an exclusivity
/// check and a generic copy path) and that cost more than the bytes themselves; ``buffer`` and
/// ``write(into:)`` hand the bytes over once, at the end.
///
/// The writer is non-copyable: it owns its memory and frees it when it goes away.
///
/// Writing never fails: sizes are checked where the bytes leave the process (the frame encoder
/// enforces ``ThriftLimits/maxFrameSize``).
public struct ThriftBinaryWriter: ~Copyable {
  @usableFromInline
  var base: UnsafeMutableRawPointer
  @usableFromInline
  var capacity: Int
  /// How many bytes have been written.
  @usableFromInline
  var written: Int
  /// Whether maps and sets are written in a canonical order (keys and elements sorted) where
  /// their element type is `Comparable`, so the same value always encodes to the same bytes.
  /// Off by default: Thrift maps and sets are unordered and sorting costs time.
  public var deterministic: Bool

  /// Creates an empty writer with room for `capacity` bytes before it grows.
  @inlinable
  public init(capacity: Int = 256, deterministic: Bool = false) {
    self.capacity = Swift.max(capacity, 16)
    self.base = .allocate(byteCount: self.capacity, alignment: 16)
    self.written = 0
    self.deterministic = deterministic
  }

  deinit {
    base.deallocate()
  }

  /// How many bytes have been written.
  @inlinable
  public var count: Int { written }

  /// The bytes written, copied into a new buffer.
  public var buffer: ByteBuffer {
    // One allocation of exactly the size written (`ByteBuffer(bytes:)` allocated and then
    // grew it).
    var buffer = ByteBufferAllocator().buffer(capacity: written)
    buffer.writeBytes(UnsafeRawBufferPointer(start: base, count: written))
    return buffer
  }

  /// The bytes written, as an array.
  public var bytes: [UInt8] {
    [UInt8](UnsafeRawBufferPointer(start: base, count: written))
  }

  /// Appends the bytes written to `buffer` (one copy, no intermediate buffer).
  public func write(into buffer: inout ByteBuffer) {
    buffer.writeBytes(UnsafeRawBufferPointer(start: base, count: written))
  }

  /// Forgets what was written, keeping the memory for reuse.
  @inlinable
  public mutating func clear() {
    written = 0
  }

  /// Appends bytes as they are, with no length prefix (for framing and tests).
  @inlinable
  public mutating func writeRawBytes(_ bytes: UnsafeRawBufferPointer) {
    reserve(bytes.count)
    if let source = bytes.baseAddress {
      (base + written).copyMemory(from: source, byteCount: bytes.count)
    }
    written += bytes.count
  }

  /// Appends bytes as they are, with no length prefix (for framing and tests).
  @inlinable
  public mutating func writeRawBytes(_ bytes: some Sequence<UInt8>) {
    for byte in bytes { store(byte) }
  }

  // MARK: Storage

  /// Makes room for `size` more bytes.
  @inlinable
  mutating func reserve(_ size: Int) {
    if capacity - written < size { grow(toFit: size) }
  }

  @usableFromInline
  mutating func grow(toFit size: Int) {
    var newCapacity = capacity * 2
    while newCapacity - written < size { newCapacity *= 2 }
    let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
    newBase.copyMemory(from: base, byteCount: written)
    base.deallocate()
    base = newBase
    capacity = newCapacity
  }

  /// Writes an integer big-endian.
  @inlinable
  mutating func store<T: FixedWidthInteger>(_ value: T) {
    reserve(MemoryLayout<T>.size)
    (base + written).storeBytes(of: value.bigEndian, as: T.self)
    written += MemoryLayout<T>.size
  }

  /// Overwrites an i32 written earlier (a frame's length prefix).
  @inlinable
  mutating func store(_ value: Int32, at offset: Int) {
    (base + offset).storeBytes(of: value.bigEndian, as: Int32.self)
  }

  // MARK: Messages and structs

  /// Writes a strict (versioned) message header.
  @inlinable
  public mutating func writeMessageBegin(_ header: ThriftMessageHeader) {
    let version = Int32(bitPattern: 0x8001_0000 | UInt32(header.type.rawValue))
    store(version)
    writeString(header.name)
    store(header.sequenceID)
  }

  /// Writes a field header: type id, then field id.
  @inlinable
  public mutating func writeFieldBegin(_ type: ThriftType, id: Int16) {
    reserve(3)
    (base + written).storeBytes(of: type.rawValue, as: UInt8.self)
    (base + written + 1).storeBytes(of: id.bigEndian, as: Int16.self)
    written += 3
  }

  /// Ends a struct's field list.
  @inlinable
  public mutating func writeFieldStop() {
    store(ThriftType.stop.rawValue)
  }

  // MARK: Scalars

  /// Writes a bool as one byte, 1 or 0.
  @inlinable
  public mutating func writeBool(_ value: Bool) {
    store(value ? 1 as UInt8 : 0)
  }

  /// Writes an i8 (IDL `byte`).
  @inlinable
  public mutating func writeI8(_ value: Int8) { store(value) }

  /// Writes a big-endian i16.
  @inlinable
  public mutating func writeI16(_ value: Int16) { store(value) }

  /// Writes a big-endian i32.
  @inlinable
  public mutating func writeI32(_ value: Int32) { store(value) }

  /// Writes a big-endian i64.
  @inlinable
  public mutating func writeI64(_ value: Int64) { store(value) }

  /// Writes a double as its IEEE 754 bits, big-endian.
  @inlinable
  public mutating func writeDouble(_ value: Double) { store(value.bitPattern) }

  /// Writes a string: its UTF-8 length as i32, then the bytes.
  @inlinable
  public mutating func writeString(_ value: String) {
    var value = value
    // withUTF8 is free for native strings (and copies small ones to the stack): one length
    // store and one memcpy.
    value.withUTF8 { utf8 in
      reserve(4 + utf8.count)
      (base + written).storeBytes(
        of: Int32(truncatingIfNeeded: utf8.count).bigEndian,
        as: Int32.self
      )
      if let source = utf8.baseAddress {
        (base + written + 4).copyMemory(from: source, byteCount: utf8.count)
      }
      written += 4 + utf8.count
    }
  }

  /// Writes binary: its length as i32, then the bytes.
  @inlinable
  public mutating func writeBinary(_ value: [UInt8]) {
    store(Int32(truncatingIfNeeded: value.count))
    value.withUnsafeBytes { writeRawBytes($0) }
  }

  /// Writes a UUID as its 16 bytes in network order.
  @inlinable
  public mutating func writeUUID(_ value: UUID) {
    withUnsafeBytes(of: value.uuid) { writeRawBytes($0) }
  }

  /// Writes an enum's i32 value.
  @inlinable
  public mutating func writeEnum<E: ThriftEnum>(_ value: E) {
    store(value.rawValue)
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
    store(elementType.rawValue)
    store(Int32(truncatingIfNeeded: count))
  }

  /// Writes a set header: element type and count.
  @inlinable
  public mutating func writeSetBegin(_ elementType: ThriftType, count: Int) {
    writeListBegin(elementType, count: count)
  }

  /// Writes a map header: key type, value type and count.
  @inlinable
  public mutating func writeMapBegin(_ keyType: ThriftType, _ valueType: ThriftType, count: Int) {
    store(keyType.rawValue)
    store(valueType.rawValue)
    store(Int32(truncatingIfNeeded: count))
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
