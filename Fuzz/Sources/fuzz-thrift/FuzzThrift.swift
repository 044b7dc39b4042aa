import NIOCore
import SkeinDemoIDL
import SkeinThrift

// The input is what a peer sends on a connection: framed messages, split into reads at points
// chosen by the input's first byte. Each complete frame is decoded the way a server would
// (message header, then the arguments as a generated struct) and also skipped as an unknown
// struct. Whatever the bytes, the only allowed outcomes are a value or a ThriftProtocolError:
// any other error, a trap, a hang or a large allocation is a finding.
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
  var buffer = ByteBuffer()
  var start = stream.startIndex
  while start < stream.endIndex {
    let end = min(start + chunk, stream.endIndex)
    buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<end]))
    start = end
    do {
      while let frame = try decoder.decode(buffer: &buffer) {
        precondition(frame.readableBytes <= limits.maxFrameSize, "frame over the limit")
        decodeMessage(frame)
      }
    } catch {
      // The server closes the connection here: the rest of the stream is never read.
      expectProtocolError(error, "frame decoder")
      return 0
    }
    // What the decoder has not taken yet must never outgrow one frame and its prefix: it
    // rejects a bad length before buffering the body.
    precondition(
      buffer.readableBytes <= 4 + limits.maxFrameSize + chunk,
      "decoder buffered too much"
    )
  }
  do {
    while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
      decodeMessage(frame)
    }
  } catch {
    expectProtocolError(error, "frame decoder at end of stream")
  }
  return 0
}
