import NIOCore
import NIOEmbedded
import SkeinDemoIDL
import SkeinThrift

// The input is what a peer sends on a connection: framed messages, split into reads at points
// chosen by the input's first byte. Each complete frame is decoded the way a server would
// (message header, then the arguments as a generated struct) and also skipped as an unknown
// struct. Whatever the bytes, the only allowed outcomes are a value or a ThriftProtocolError:
// any other error, a trap, a hang or a large allocation is a finding. The same reads also go
// through ThriftFrameHandler (what Skein's servers and clients use), which must cut the same
// frames and refuse the same stream as the decoder.
//
// The limits are tight so that the fuzzer reaches them with small inputs.

let limits = ThriftLimits(
  maxFrameSize: 4096,
  maxStringLength: 256,
  maxContainerCount: 64,
  maxNestingDepth: 8
)

/// Fails the run (libFuzzer records the input) unless `error` is a protocol error.
func expectProtocolError(_ error: any Error, _ what: String) {
  guard error is ThriftProtocolError else {
    fatalError("\(what) threw \(type(of: error)): \(error)")
  }
}

/// Decodes `frame` as `S`, and checks that a value decoded once survives a round trip
/// unchanged (decoding repairs bad UTF-8, so the bytes may differ, the value may not).
func decode<S: ThriftStruct & Equatable>(_ type: S.Type, _ body: ThriftBinaryReader) {
  var reader = body
  let value: S
  do {
    value = try S(from: &reader)
  } catch {
    expectProtocolError(error, "\(S.self)")
    return
  }
  precondition(reader.readableBytes >= 0, "\(S.self) read past its frame")
  let again: S
  do {
    again = try S(decoding: value.encoded(), limits: .default)
  } catch {
    fatalError("\(S.self) did not decode its own encoding: \(error)")
  }
  precondition(again == value, "\(S.self) changed on a round trip")
}

/// Decodes one frame as a request or reply message.
func decodeMessage(_ frame: ByteBuffer) {
  var reader = ThriftBinaryReader(buffer: frame, limits: limits)
  do {
    _ = try reader.readMessageBegin()
  } catch {
    expectProtocolError(error, "message header")
    return
  }
  var skipper = reader
  do {
    try skipper.skip(.struct)
  } catch {
    expectProtocolError(error, "skip")
  }
  // One type of each shape: maps of strings (Base), binary values, lists of structs, lists of
  // i64, a result union with an exception, and the application exception.
  decode(ExampleServiceMethods.VisitArgs.self, reader)
  decode(ExampleServiceMethods.VisitResult.self, reader)
  decode(StorageServiceMethods.MultiGetResult.self, reader)
  decode(FeedServiceMethods.GetFeedResult.self, reader)
  decode(RecommendServiceMethods.RankArgs.self, reader)
  decode(GatewayServiceMethods.HomeResult.self, reader)
  var exceptionReader = reader
  do {
    _ = try ThriftApplicationException(from: &exceptionReader)
  } catch {
    expectProtocolError(error, "application exception")
  }
}

/// libFuzzer's entry point: one input, one simulated connection.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let bytes = UnsafeBufferPointer(start: data, count: size)
  // The first byte picks the read size (1...256), so frames arrive split at every boundary.
  let chunk = Int(bytes[0]) + 1
  let stream = bytes.dropFirst()
  var decoder = ThriftFrameDecoder(maxFrameSize: limits.maxFrameSize)
  let handler = HandlerUnderTest()
  var buffer = ByteBuffer()
  var start = stream.startIndex
  while start < stream.endIndex {
    let end = min(start + chunk, stream.endIndex)
    let read = UnsafeBufferPointer(rebasing: bytes[start..<end])
    buffer.writeBytes(read)
    start = end
    var frames: [ByteBuffer] = []
    var refused = false
    do {
      while let frame = try decoder.decode(buffer: &buffer) {
        precondition(frame.readableBytes <= limits.maxFrameSize, "frame over the limit")
        decodeMessage(frame)
        frames.append(frame)
      }
    } catch {
      expectProtocolError(error, "frame decoder")
      refused = true
    }
    handler.read(read, expecting: frames, refused: refused)
    // The server closes the connection here: the rest of the stream is never read.
    if refused { return 0 }
    // What the decoder has not taken yet must never outgrow one frame and its prefix: it
    // rejects a bad length before buffering the body.
    precondition(
      buffer.readableBytes <= 4 + limits.maxFrameSize + chunk,
      "decoder buffered too much"
    )
  }
  var cutShort = false
  do {
    while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
      decodeMessage(frame)
    }
  } catch {
    expectProtocolError(error, "frame decoder at end of stream")
    cutShort = true
  }
  handler.close(cutShort: cutShort)
  return 0
}

/// ThriftFrameHandler in a channel of its own, checked against the decoder read by read.
final class HandlerUnderTest {
  let channel = EmbeddedChannel(
    handler: ThriftFrameHandler(maxFrameSize: limits.maxFrameSize, reportsProgress: true)
  )

  deinit {
    // A channel left open keeps its pipeline, and so itself, alive: closed here whatever
    // became of the stream.
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  /// Passes one read in; the handler must pass on exactly `frames`, or refuse when the
  /// decoder did.
  func read(_ bytes: UnsafeBufferPointer<UInt8>, expecting frames: [ByteBuffer], refused: Bool) {
    do {
      try channel.writeInbound(ByteBuffer(bytes: bytes))
      precondition(!refused, "the handler took a stream the decoder refused")
    } catch {
      expectProtocolError(error, "frame handler")
      precondition(refused, "the handler refused a stream the decoder took: \(error)")
    }
    var passed: [ByteBuffer] = []
    while let frame = try? channel.readInbound(as: ByteBuffer.self) { passed.append(frame) }
    precondition(
      passed == frames,
      "the handler cut \(passed.count) frames, the decoder \(frames.count)"
    )
  }

  /// Ends the stream; the handler must call a frame cut short an error as the decoder did.
  func close(cutShort: Bool) {
    do {
      _ = try channel.finish()
      precondition(!cutShort, "the handler let a frame cut short pass at the end")
    } catch {
      expectProtocolError(error, "frame handler at end of stream")
      precondition(cutShort, "the handler failed at the end where the decoder did not: \(error)")
    }
  }
}
