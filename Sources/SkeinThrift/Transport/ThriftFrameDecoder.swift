public import NIOCore

/// Splits a byte stream into Thrift frames: a 4-byte big-endian length, then that many bytes.
///
/// Each frame is passed on as a slice of the bytes received, without copying. A length that is
/// negative, zero or above ``ThriftLimits/maxFrameSize`` is rejected as soon as its four bytes
/// arrive, before any of the frame is buffered, and a stream that ends inside a frame is an
/// error rather than a silent loss.
public struct ThriftFrameDecoder: NIOSingleStepByteToMessageDecoder {
  /// Each decoded frame's payload, without its length prefix.
  public typealias InboundOut = ByteBuffer

  /// The largest frame accepted, in bytes.
  public let maxFrameSize: Int

  /// Creates a decoder.
  ///
  /// - Parameter maxFrameSize: The largest frame accepted (default: ``ThriftLimits/maxFrameSize``).
  public init(maxFrameSize: Int = ThriftLimits.default.maxFrameSize) {
    self.maxFrameSize = maxFrameSize
  }

  /// Returns the next complete frame, or `nil` when more bytes are needed.
  public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
    guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else {
      return nil
    }
    let size = Int(length)
    if size < 0 { throw ThriftProtocolError.negativeSize("frame", size) }
    if size == 0 { throw ThriftProtocolError.invalidData("empty frame (length 0)") }
    if size > maxFrameSize {
      throw ThriftProtocolError.limitExceeded(
        .maxFrameSize,
        "frame",
        value: size,
        max: maxFrameSize
      )
    }
    guard buffer.readableBytes >= 4 + size else { return nil }
    buffer.moveReaderIndex(forwardBy: 4)
    return buffer.readSlice(length: size)
  }

  /// Returns the remaining complete frames when the stream ends; a partial frame is an error.
  public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
    if let frame = try decode(buffer: &buffer) { return frame }
    if buffer.readableBytes > 0 {
      let declared = buffer.getInteger(at: buffer.readerIndex, as: Int32.self).map(Int.init)
      throw ThriftProtocolError.truncated(
        "frame",
        needed: (declared ?? 0) + 4,
        available: buffer.readableBytes
      )
    }
    return nil
  }
}
