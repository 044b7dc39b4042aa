import NIOCore
import NIOEmbedded
import SkeinThrift
import Testing

@Suite("Framed transport")
struct FrameCodecTests {
  /// A channel whose inbound side splits frames.
  func decoderChannel(maxFrameSize: Int = ThriftLimits.default.maxFrameSize) throws
    -> EmbeddedChannel
  {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(
      ThriftFrameHandler(maxFrameSize: maxFrameSize)
    )
    return channel
  }

  /// A channel whose outbound side prefixes frames.
  func encoderChannel(maxFrameSize: Int = ThriftLimits.default.maxFrameSize) throws
    -> EmbeddedChannel
  {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(
      MessageToByteHandler(ThriftFrameEncoder(maxFrameSize: maxFrameSize))
    )
    return channel
  }

  /// A frame on the wire: 4-byte big-endian length, then the payload.
  func frame(_ payload: [UInt8]) -> [UInt8] {
    be32(Int32(payload.count)) + payload
  }

  /// Every frame the channel has decoded so far.
  func readFrames(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while let frame = try channel.readInbound(as: ByteBuffer.self) {
      frames.append(bytes(of: frame))
    }
    return frames
  }

  /// Expects writing `input` to the channel to fail with a protocol error.
  @discardableResult
  func expectInboundError(
    _ channel: EmbeddedChannel,
    _ input: [UInt8],
    _ code: ThriftProtocolError.Code,
    limit: ThriftLimit? = nil,
    value: Int64? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) -> ThriftProtocolError? {
    expectProtocolError(code, limit: limit, value: value, sourceLocation: sourceLocation) {
      try channel.writeInbound(ByteBuffer(bytes: input))
    }
  }

  @Test("a frame written one byte at a time arrives once, whole")
  func byteByByte() throws {
    let channel = try decoderChannel()
    let payload = Array("one byte at a time, please".utf8)
    let wire = frame(payload)
    for (index, byte) in wire.enumerated() {
      try channel.writeInbound(ByteBuffer(bytes: [byte]))
      let frames = try readFrames(channel)
      if index < wire.count - 1 {
        #expect(frames.isEmpty, "a frame came out after \(index + 1) bytes")
      } else {
        #expect(frames == [payload])
      }
    }
    #expect(try channel.finish().isClean)
  }

  @Test("several frames in one write come out in order")
  func severalFramesInOneWrite() throws {
    let channel = try decoderChannel()
    let payloads: [[UInt8]] = [[0x01], [0x02, 0x03], Array(repeating: 0xab, count: 1000), [0x00]]
    try channel.writeInbound(ByteBuffer(bytes: payloads.flatMap(frame)))
    #expect(try readFrames(channel) == payloads)
    #expect(try channel.finish().isClean)
  }

  @Test("frames split at random boundaries come out whole and in order")
  func randomSplits() throws {
    var random = SplitMix64(seed: 42)
    for _ in 0..<50 {
      let channel = try decoderChannel()
      let payloads = (0..<Int.random(in: 1...6, using: &random)).map { _ in
        (0..<Int.random(in: 1...300, using: &random)).map { _ in
          UInt8.random(in: 0...255, using: &random)
        }
      }
      var wire = payloads.flatMap(frame)[...]
      var received: [[UInt8]] = []
      while !wire.isEmpty {
        let chunk = wire.prefix(Int.random(in: 1...64, using: &random))
        wire = wire.dropFirst(chunk.count)
        try channel.writeInbound(ByteBuffer(bytes: chunk))
        received += try readFrames(channel)
      }
      #expect(received == payloads)
      #expect(try channel.finish().isClean)
    }
  }

  @Test("a zero-length frame is rejected: no Thrift message is empty")
  func zeroLengthFrame() throws {
    let channel = try decoderChannel()
    expectInboundError(channel, [0, 0, 0, 0], .invalidData)
    _ = try? channel.finish()
  }

  @Test(
    "a negative length is rejected with the length seen",
    arguments: [UInt32(0xffff_ffff), 0x8000_0000]
  )
  func negativeLength(bits: UInt32) throws {
    let channel = try decoderChannel()
    expectInboundError(
      channel,
      be32(bits: bits),
      .negativeSize,
      value: Int64(Int32(bitPattern: bits))
    )
    _ = try? channel.finish()
  }

  @Test("a frame over maxFrameSize is rejected as soon as its length arrives")
  func frameOverLimit() throws {
    let channel = try decoderChannel(maxFrameSize: 1024)
    // Only the 4-byte length is sent: the error must not wait for (or buffer) the payload.
    let error = expectInboundError(
      channel,
      be32(1025),
      .limitExceeded,
      limit: .maxFrameSize,
      value: 1025
    )
    #expect(error?.message.contains("maxFrameSize") == true)
    _ = try? channel.finish()
  }

  @Test("the default decoder rejects a 2 GiB frame from its length alone")
  func hugeFrame() throws {
    let channel = try decoderChannel()
    expectInboundError(
      channel,
      be32(.max),
      .limitExceeded,
      limit: .maxFrameSize,
      value: Int64(Int32.max)
    )
    _ = try? channel.finish()
    let justOver = try decoderChannel()
    let size = ThriftLimits.default.maxFrameSize + 1
    expectInboundError(
      justOver,
      be32(Int32(size)),
      .limitExceeded,
      limit: .maxFrameSize,
      value: Int64(size)
    )
    _ = try? justOver.finish()
  }

  @Test("a frame of exactly maxFrameSize is accepted")
  func frameAtLimit() throws {
    let channel = try decoderChannel(maxFrameSize: 1024)
    let payload = [UInt8](repeating: 7, count: 1024)
    try channel.writeInbound(ByteBuffer(bytes: frame(payload)))
    #expect(try readFrames(channel) == [payload])
    #expect(try channel.finish().isClean)
  }

  @Test("EOF in the middle of a frame is a truncated error")
  func eofInsideFrame() throws {
    let channel = try decoderChannel()
    try channel.writeInbound(ByteBuffer(bytes: frame([1, 2]) + be32(10) + [1, 2, 3]))
    #expect(try readFrames(channel) == [[1, 2]])
    expectProtocolError(.truncated, value: 14) {
      _ = try channel.finish()
    }
  }

  @Test("EOF in the middle of a length prefix is a truncated error")
  func eofInsideLength() throws {
    let channel = try decoderChannel()
    try channel.writeInbound(ByteBuffer(bytes: [0, 0]))
    #expect(try readFrames(channel).isEmpty)
    expectProtocolError(.truncated) {
      _ = try channel.finish()
    }
  }

  @Test("EOF between frames is clean, and frames completed with the EOF are delivered")
  func eofBetweenFrames() throws {
    let channel = try decoderChannel()
    try channel.writeInbound(ByteBuffer(bytes: frame([9])))
    let state = try channel.finish()
    guard case .leftOvers(let inbound, _, _) = state else {
      Issue.record("the decoded frame should still be waiting: \(state)")
      return
    }
    #expect(inbound.count == 1)
  }

  @Test("the decoder leaves a partial frame in the buffer until it is whole")
  func decoderWaitsForWholeFrame() throws {
    var decoder = ThriftFrameDecoder()
    var buffer = ByteBuffer(bytes: [0, 0])
    #expect(try decoder.decode(buffer: &buffer) == nil)
    #expect(buffer.readableBytes == 2)
    buffer.writeBytes([0, 3, 0xaa])
    #expect(try decoder.decode(buffer: &buffer) == nil)
    #expect(buffer.readableBytes == 5)
    buffer.writeBytes([0xbb, 0xcc, 0x00])
    let frame = try decoder.decode(buffer: &buffer)
    #expect(frame.map { bytes(of: $0) } == [0xaa, 0xbb, 0xcc])
    #expect(buffer.readableBytesView.elementsEqual([0x00]))
    #expect(decoder.maxFrameSize == ThriftLimits.default.maxFrameSize)
  }

  @Test("the encoder writes the 4-byte big-endian length, then the payload")
  func encoderWritesLength() throws {
    let channel = try encoderChannel()
    let payload = [UInt8](repeating: 0x5a, count: 300)
    try channel.writeOutbound(ByteBuffer(bytes: payload))
    let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
    #expect(bytes(of: written) == [0x00, 0x00, 0x01, 0x2c] + payload)
    #expect(try channel.finish().isClean)
  }

  @Test("the encoder frames an empty payload as length 0")
  func encoderEmptyPayload() throws {
    var out = ByteBuffer()
    try ThriftFrameEncoder().encode(data: ByteBuffer(), out: &out)
    #expect(bytes(of: out) == [0, 0, 0, 0])
  }

  @Test("the encoder refuses a payload over maxFrameSize instead of sending it")
  func encoderOverLimit() throws {
    var out = ByteBuffer()
    expectProtocolError(.limitExceeded, limit: .maxFrameSize, value: 5) {
      try ThriftFrameEncoder(maxFrameSize: 4).encode(
        data: ByteBuffer(bytes: [1, 2, 3, 4, 5]),
        out: &out
      )
    }
    #expect(out.readableBytes == 0)
    try ThriftFrameEncoder(maxFrameSize: 4).encode(
      data: ByteBuffer(bytes: [1, 2, 3, 4]),
      out: &out
    )
    #expect(bytes(of: out) == [0, 0, 0, 4, 1, 2, 3, 4])
  }

  @Test("frames written by the encoder are read back by the decoder")
  func encoderDecoderRoundTrip() throws {
    let encoder = try encoderChannel()
    let decoder = try decoderChannel()
    var payloads: [[UInt8]] = []
    for sequenceID in Int32(1)...5 {
      var writer = ThriftBinaryWriter()
      writer.writeCall(
        EchoMethods.Echo.self,
        args: .init(text: "call \(sequenceID)"),
        sequenceID: sequenceID
      )
      payloads.append(bytes(of: writer.buffer))
      try encoder.writeOutbound(writer.buffer)
    }
    while let chunk = try encoder.readOutbound(as: ByteBuffer.self) {
      try decoder.writeInbound(chunk)
    }
    let frames = try readFrames(decoder)
    #expect(frames == payloads)
    var reader = ThriftBinaryReader(buffer: ByteBuffer(bytes: frames[2]))
    #expect(try reader.readMessageBegin().sequenceID == 3)
    #expect(try encoder.finish().isClean)
    #expect(try decoder.finish().isClean)
  }

  @Test("a frame written in place has its length filled in")
  func inPlaceFrame() throws {
    var writer = ThriftBinaryWriter()
    let start = writer.beginFrame()
    writer.writeMessageBegin(ThriftMessageHeader(name: "ping", type: .call, sequenceID: 1))
    writer.writeFieldStop()
    try writer.endFrame(at: start)
    let wire = bytes(of: writer.buffer)
    #expect(wire.prefix(4) == be32(Int32(wire.count - 4))[...])

    var decoder = ThriftFrameDecoder()
    var buffer = writer.buffer
    let payload = try #require(try decoder.decode(buffer: &buffer))
    var reader = ThriftBinaryReader(buffer: payload)
    #expect(try reader.readMessageBegin().name == "ping")
  }

  @Test("a frame written in place after other bytes is measured from its own start")
  func inPlaceFrameAfterOthers() throws {
    var writer = ThriftBinaryWriter()
    let first = writer.beginFrame()
    writer.writeI32(1)
    try writer.endFrame(at: first)
    let second = writer.beginFrame()
    writer.writeI16(2)
    try writer.endFrame(at: second)
    #expect(bytes(of: writer.buffer) == [0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 2])
  }

  @Test("a frame written in place over maxFrameSize is refused")
  func inPlaceFrameOverLimit() throws {
    var writer = ThriftBinaryWriter()
    let start = writer.beginFrame()
    writer.writeI64(0)
    expectProtocolError(.limitExceeded, limit: .maxFrameSize, value: 8) {
      try writer.endFrame(at: start, maxFrameSize: 7)
    }
  }
}
