public import NIOCore

/// A value that reads and writes itself in the Thrift binary protocol: every generated struct,
/// union, exception, and each method's argument and result struct.
public protocol ThriftStruct: Sendable {
  /// Decodes the value, consuming exactly its bytes (through the final field stop).
  init(from reader: inout ThriftBinaryReader) throws
  /// Encodes the value.
  func write(to writer: inout ThriftBinaryWriter)
}

extension ThriftStruct {
  /// Decodes a value from a buffer holding exactly one encoded struct.
  ///
  /// - Parameters:
  ///   - buffer: The encoded bytes.
  ///   - limits: The limits to enforce on the input.
  public init(decoding buffer: ByteBuffer, limits: ThriftLimits = .default) throws {
    var reader = ThriftBinaryReader(buffer: buffer, limits: limits)
    self = try Self(from: &reader)
  }

  /// Decodes a value from bytes holding exactly one encoded struct.
  public init(decoding bytes: some Sequence<UInt8>, limits: ThriftLimits = .default) throws {
    try self.init(decoding: ByteBuffer(bytes: bytes), limits: limits)
  }

  /// Encodes the value into a new buffer.
  ///
  /// - Parameter deterministic: Write map entries and set elements in sorted order, so equal
  ///   values give equal bytes.
  /// - Returns: The encoded bytes.
  public func encoded(deterministic: Bool = false) -> ByteBuffer {
    var writer = ThriftBinaryWriter(deterministic: deterministic)
    write(to: &writer)
    return writer.buffer
  }
}

/// A generated Thrift enum: an i32 on the wire. Values the enum does not declare are kept as
/// they are, so a newer peer's new case survives a trip through an older one.
public protocol ThriftEnum: RawRepresentable, Sendable, Hashable, Comparable
where RawValue == Int32 {
  /// Creates the case with this wire value, or one that remembers an unknown value.
  init(rawValue: Int32)
}

extension ThriftEnum {
  /// Enums order by wire value, which makes sets and map keys of them sortable for
  /// deterministic encoding.
  @inlinable
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
