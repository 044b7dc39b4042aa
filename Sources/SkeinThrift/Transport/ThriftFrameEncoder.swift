public import NIOCore

/// Prefixes each outgoing payload with its 4-byte big-endian length.
///
/// For the hot path, write the frame in place instead (``ThriftBinaryWriter/beginFrame()`` and
/// ``ThriftBinaryWriter/endFrame(at:maxFrameSize:)``) and send the buffer as is; this encoder
/// is for payloads that already exist unframed.
public struct ThriftFrameEncoder: MessageToByteEncoder {
  /// A message payload, without a length prefix.
  public typealias OutboundIn = ByteBuffer

  /// The largest frame sent; a larger payload is an error, never sent truncated.
  public let maxFrameSize: Int

  /// Creates an encoder.
  public init(maxFrameSize: Int = ThriftLimits.default.maxFrameSize) {
    self.maxFrameSize = maxFrameSize
  }

  /// Writes the length prefix and the payload.
  public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
    let size = data.readableBytes
    try checkFrameSize(size, max: maxFrameSize)
    out.reserveCapacity(4 + size)
    out.writeInteger(Int32(size))
    out.writeImmutableBuffer(data)
  }
}

extension ThriftBinaryWriter {
  /// Reserves a frame's length prefix at the current position; pass the result to
  /// ``endFrame(at:maxFrameSize:)`` once the message is written.
  @inlinable
  public mutating func beginFrame() -> Int {
    let index = written
    store(0 as Int32)
    return index
  }

  /// Fills in the length prefix reserved by ``beginFrame()``.
  ///
  /// - Throws: ``ThriftProtocolError`` with ``ThriftLimit/maxFrameSize`` when the frame is too
  ///   large to send; the caller must not send the buffer then.
  @inlinable
  public mutating func endFrame(
    at index: Int,
    maxFrameSize: Int = ThriftLimits.default.maxFrameSize
  )
    throws
  {
    let size = written - index - 4
    try checkFrameSize(size, max: maxFrameSize)
    store(Int32(size), at: index)
  }
}

/// Refuses a frame larger than the limit, before its length prefix is written.
@inlinable
func checkFrameSize(_ size: Int, max: Int) throws {
  if size > max {
    throw ThriftProtocolError.limitExceeded(.maxFrameSize, "frame", value: size, max: max)
  }
}
