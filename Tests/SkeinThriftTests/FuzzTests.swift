import NIOCore
import SkeinThrift
import Testing

// Random and mutated input must only ever make the reader throw a protocol error or succeed:
// never trap, hang or allocate a claimed size. The generator is seeded, so a failure reproduces.

@Suite("Fuzzing")
struct FuzzTests {
  static let allTypes: [ThriftType] = [
    .stop, .void, .bool, .i8, .double, .i16, .i32, .i64, .string, .struct, .map, .set, .list, .uuid,
  ]

  /// Bytes that are type ids, small counts and sign bits, so random input often looks like
  /// the start of something and reaches deep paths.
  static let interestingBytes: [UInt8] = [
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x7f, 0x80, 0xff,
  ]

  static let tightLimits = ThriftLimits(
    maxFrameSize: 256,
    maxStringLength: 32,
    maxContainerCount: 16,
    maxNestingDepth: 8
  )

  /// Runs `body` and records an issue unless it succeeds or throws a ``ThriftProtocolError``.
  func expectOnlyProtocolErrors(
    _ input: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
  ) {
    do {
      try body()
    } catch is ThriftProtocolError {
      // Expected for most random input.
    } catch {
      Issue.record("unexpected error \(error) for input \(input)", sourceLocation: sourceLocation)
    }
  }

  /// Feeds `input` to every entry point of the reader.
  func exercise(_ input: [UInt8], limits: ThriftLimits, random: inout SplitMix64) {
    expectOnlyProtocolErrors(input) {
      var reader = reader(input, limits: limits)
      _ = try reader.readMessageBegin()
      _ = try PersonV2(from: &reader)
    }
    expectOnlyProtocolErrors(input) {
      _ = try PersonV2(decoding: input, limits: limits)
    }
    expectOnlyProtocolErrors(input) {
      _ = try PersonV1(decoding: input, limits: limits)
    }
    expectOnlyProtocolErrors(input) {
      _ = try ThriftApplicationException(decoding: input, limits: limits)
    }
    expectOnlyProtocolErrors(input) {
      _ = try Tree(decoding: input, limits: limits)
    }
    let type = Self.allTypes.randomElement(using: &random)!
    expectOnlyProtocolErrors(input) {
      var reader = reader(input, limits: limits)
      let before = reader.buffer.readableBytes
      try reader.skip(type)
      #expect(reader.buffer.readableBytes <= before)
    }
    expectOnlyProtocolErrors(input) {
      var reader = reader(input, limits: limits)
      while reader.buffer.readableBytes > 0 {
        try reader.skip(.struct)
      }
    }
  }

  func randomBytes(count: Int, interesting: Bool, random: inout SplitMix64) -> [UInt8] {
    (0..<count).map { _ in
      interesting
        ? Self.interestingBytes.randomElement(using: &random)!
        : UInt8.random(in: 0...255, using: &random)
    }
  }

  @Test("random bytes only ever throw protocol errors or decode", arguments: [UInt64(1), 2, 3])
  func randomBytes(seed: UInt64) {
    var random = SplitMix64(seed: seed)
    for iteration in 0..<2000 {
      let count = Int.random(in: 0...96, using: &random)
      let input = randomBytes(count: count, interesting: iteration % 2 == 0, random: &random)
      exercise(input, limits: iteration % 3 == 0 ? Self.tightLimits : .default, random: &random)
    }
  }

  @Test(
    "mutated valid messages only ever throw protocol errors or decode",
    arguments: [UInt64(7), 8]
  )
  func mutatedMessages(seed: UInt64) {
    var writer = ThriftBinaryWriter()
    writer.writeMessageBegin(ThriftMessageHeader(name: "update", type: .call, sequenceID: 1))
    writer.writeStruct(PersonV2.sample)
    let valid = bytes(of: writer.buffer)
    let validStruct = bytes(of: PersonV2.sample.encoded())

    var random = SplitMix64(seed: seed)
    for iteration in 0..<1500 {
      var input = iteration % 2 == 0 ? valid : validStruct
      switch Int.random(in: 0..<4, using: &random) {
      case 0:
        // Overwrite a few bytes.
        for _ in 0..<Int.random(in: 1...4, using: &random) {
          let index = Int.random(in: 0..<input.count, using: &random)
          input[index] =
            Bool.random(using: &random)
            ? Self.interestingBytes.randomElement(using: &random)!
            : UInt8.random(in: 0...255, using: &random)
        }
      case 1:
        // Cut it short.
        input.removeLast(Int.random(in: 1...input.count, using: &random))
      case 2:
        // Insert random bytes.
        let index = Int.random(in: 0...input.count, using: &random)
        let count = Int.random(in: 1...8, using: &random)
        input.insert(
          contentsOf: randomBytes(count: count, interesting: true, random: &random),
          at: index
        )
      default:
        // Delete a run of bytes.
        let start = Int.random(in: 0..<input.count, using: &random)
        let end = min(input.count, start + Int.random(in: 1...8, using: &random))
        input.removeSubrange(start..<end)
      }
      exercise(input, limits: iteration % 3 == 0 ? Self.tightLimits : .default, random: &random)
    }
  }

  @Test("mutated requests get a readable reply or none")
  func mutatedRequests() async throws {
    let processor = ThriftProcessor(EchoProcessor(EchoHandler()))
    var writer = ThriftBinaryWriter()
    writer.writeCall(EchoMethods.Echo.self, args: .init(text: "fuzz me"), sequenceID: 3)
    let valid = bytes(of: writer.buffer)
    var random = SplitMix64(seed: 99)
    for _ in 0..<500 {
      var input = valid
      for _ in 0..<Int.random(in: 1...3, using: &random) {
        input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(
          in: 0...255,
          using: &random
        )
      }
      guard let reply = await processor.process(ByteBuffer(bytes: input)) else { continue }
      var reader = ThriftBinaryReader(buffer: reply)
      let header = try reader.readMessageBegin()
      switch header.type {
      case .reply: _ = try EchoMethods.EchoResult(from: &reader)
      case .exception: _ = try ThriftApplicationException(from: &reader)
      default: Issue.record("unexpected reply type \(header.type)")
      }
      #expect(reader.buffer.readableBytes == 0)
    }
  }
}
