import Foundation
import NIOCore
import SkeinTestSupport
import SkeinThrift
import Testing

// Interop with Apache Thrift, a peer nobody here wrote: its compiler generates Python from
// interop.thrift, its Python library encodes a corpus, and Skein (with code its plugin
// generated from the same file) must decode every value and encode the same bytes; then
// Python decodes what Skein wrote. Maps and sets are written in sorted order on both sides
// (Skein's deterministic mode), which is what makes bytes comparable.

/// Apache Thrift's compiler and Python library.
let apacheThrift = IntegrationPeer.apacheThrift

/// Python's side of the exchange, run once for all tests.
struct PythonPeer: Sendable {
  let python: String
  let script: String
  let generated: String
  /// What Python encoded, by corpus name.
  let encoded: [String: [UInt8]]

  static let shared = Task { try await PythonPeer() }

  private init() async throws {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let thrift = try apacheThrift.executable("thrift")
    python = try apacheThrift.executable("python3")
    script = here.appending(path: "interop_peer.py").path
    generated =
      FileManager.default.temporaryDirectory
      .appending(path: "skein-interop-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: generated, withIntermediateDirectories: true)
    try await ProcessResult.check(
      thrift,
      ["--gen", "py", "-out", generated, here.appending(path: "interop.thrift").path]
    )
    let output = try await ProcessResult.check(python, [script, generated, "encode"]).output
    var encoded: [String: [UInt8]] = [:]
    for line in output.split(separator: "\n") {
      let parts = line.split(separator: " ")
      guard parts.count == 2, let bytes = [UInt8](hex: parts[1]) else {
        throw IntegrationError(message: "unexpected line from interop_peer.py: \(line)")
      }
      encoded[String(parts[0])] = bytes
    }
    self.encoded = encoded
  }

  /// Bytes Python encoded for `name`.
  func bytes(_ name: String) throws -> [UInt8] {
    guard let bytes = encoded[name] else {
      throw IntegrationError(message: "interop_peer.py encoded nothing named \(name)")
    }
    return bytes
  }

  /// Has Python decode what Skein wrote; returns Python's verdict per name.
  func check(_ written: [(String, [UInt8])]) async throws -> [String: String] {
    // Tests run in parallel: each check gets its own file.
    let file = generated + "/from-skein-\(UUID().uuidString).txt"
    let text = written.map { "\($0.0) \($0.1.hex)\n" }.joined()
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    let result = try await ProcessResult.run(python, [script, generated, "check", file])
    var verdicts: [String: String] = [:]
    for line in result.output.split(separator: "\n") {
      guard let space = line.firstIndex(of: " ") else { continue }
      verdicts[String(line[..<space])] = String(line[line.index(after: space)...])
    }
    if verdicts.isEmpty {
      throw IntegrationError(message: "interop_peer.py check failed: \(result.errorOutput)")
    }
    return verdicts
  }
}

// MARK: The corpus (mirrors CORPUS in interop_peer.py)

let drawing = Drawing(
  shapes: [.point(Point(x: 1, y: 2)), .radius(2.5), .label("tag")],
  main: .label("main"),
  named: ["a": .radius(-1.0), "b": .point(Point(x: -3, y: 4))]
)

let recordV2 = RecordV2(
  name: "record",
  b: true,
  i8v: -8,
  i16v: -16,
  version: 7,
  i64v: -(1 << 40),
  d: 3.5,
  bin: [0x00, 0x01, 0x7F],
  point: Point(x: 9, y: 10),
  points: [Point(x: 1, y: 1), Point(x: 2, y: 2)],
  ints: [3, 1, 2],
  deep: ["k": [Point(x: 5, y: 6)], "e": []],
  tangled: [[[1: "one", 2: "two"]], [], [[:]]],
  shape: .radius(1.5)
)

/// One corpus entry: a value written, and the type and value a reader gets back.
struct Entry: Sendable {
  let name: String
  /// Decodes Python's bytes and says what differs from the expectation, if anything.
  let decode: @Sendable ([UInt8]) throws -> String?
  /// Skein's encoding of the written value.
  let encode: @Sendable () -> [UInt8]

  init<Written: ThriftStruct & Equatable, Read: ThriftStruct & Equatable>(
    _ name: String,
    _ value: Written,
    readAs: Read.Type,
    expecting expected: Read
  ) {
    self.name = name
    self.decode = { bytes in
      let decoded = try Read(decoding: bytes)
      return decoded == expected ? nil : "decoded \(decoded), expected \(expected)"
    }
    self.encode = { Array(buffer: value.encoded(deterministic: true)) }
  }

  init<Value: ThriftStruct & Equatable>(_ name: String, _ value: Value) {
    self.init(name, value, readAs: Value.self, expecting: value)
  }
}

let corpus: [Entry] = [
  Entry("scalars_defaults", Scalars()),
  Entry(
    "scalars_extremes",
    Scalars(
      flag: false,
      tiny: -128,
      small: -32768,
      medium: Int32.min,
      large: Int64.min,
      ratio: -0.0,
      text: "",
      blob: [],
      color: .blue
    )
  ),
  Entry(
    "scalars_max",
    Scalars(
      flag: true,
      tiny: 127,
      small: 32767,
      medium: Int32.max,
      large: Int64.max,
      ratio: 1.7976931348623157e308,
      text: "日本語 ✓ \u{1F600}",
      blob: Array(0...255),
      color: .red
    )
  ),
  Entry("scalars_unknown_enum", Scalars(blob: Array("x".utf8), color: Color(rawValue: 42))),
  Entry("containers_empty", Containers()),
  Entry(
    "containers_full",
    Containers(
      numbers: [3, -1, Int32.max],
      tags: ["b", "a", "c"],
      counts: ["x": 1, "y": -(1 << 62)],
      grid: [["a", "b"], [], ["c"]],
      paths: [2: [Point(x: 1, y: 2)], -1: []],
      ids: [5, -5, 0],
      nested: ["outer": ["inner": 0.5, "z": -2.0], "empty": [:]],
      colors: [.red, .blue, .green],
      aliased: [7, 8],
      blobs: [[], [0x00, 0xFF]],
      flags: [true, false, true],
      ratios: [1e-300, -1e300, 0.1],
      small: [-128: -32768, 127: 32767]
    )
  ),
  Entry("optionals_unset", Optionals(id: "only")),
  Entry(
    "optionals_set",
    Optionals(name: "n", count: 0, id: "x", where: Point(x: 0, y: 0), points: [Point(x: 1, y: 2)])
  ),
  Entry("drawing", drawing),
  Entry("record_v1", RecordV1(name: "old", version: 1)),
  Entry("record_v2", recordV2),
  Entry(
    "record_v2_read_as_v1",
    recordV2,
    readAs: RecordV1.self,
    expecting: RecordV1(name: "record", version: 7)
  ),
  Entry(
    "record_v1_read_as_v2",
    RecordV1(name: "old", version: 1),
    readAs: RecordV2.self,
    expecting: RecordV2(name: "old", version: 1)
  ),
  Entry("failure", Failure(reason: "bad", code: -1)),
]

/// Answers like the Python handler.
struct EchoHandler: Echo {
  func draw(drawing: Drawing, times: Int32) async throws -> Drawing {
    if times < 0 { throw Failure(reason: "negative times", code: times) }
    let shapes = (0..<Int(times)).flatMap { _ in drawing.shapes }
    return Drawing(shapes: shapes, main: drawing.main, named: drawing.named)
  }

  func ping(note: String) async throws {}
}

// MARK: Tests

@Suite(
  "Apache Thrift interop",
  .enabled(if: apacheThrift.shouldRun, Comment(rawValue: apacheThrift.skipReason))
)
struct InteropTests {
  @Test("Skein decodes what Apache Thrift encodes, and encodes the same bytes", arguments: corpus)
  func pythonToSkein(entry: Entry) async throws {
    let peer = try await PythonPeer.shared.value
    let pythonBytes = try peer.bytes(entry.name)
    #expect(try entry.decode(pythonBytes) == nil)
    let skeinBytes = entry.encode()
    #expect(skeinBytes.hex == pythonBytes.hex)
  }

  @Test("Apache Thrift decodes what Skein encodes")
  func skeinToPython() async throws {
    let peer = try await PythonPeer.shared.value
    let verdicts = try await peer.check(corpus.map { ($0.name, $0.encode()) })
    for entry in corpus {
      #expect(
        verdicts[entry.name] == "ok",
        "\(entry.name): \(verdicts[entry.name] ?? "no verdict")"
      )
    }
  }

  @Test("Calls, replies, oneway, exceptions and old headers match Apache Thrift's")
  func messages() async throws {
    let peer = try await PythonPeer.shared.value
    let processor = ThriftProcessor(EchoProcessor(EchoHandler()))
    var toPython: [(String, [UInt8])] = []

    // Calls Skein writes are Python's bytes exactly.
    func call<M: ThriftMethod>(_ method: M.Type, _ args: M.Args, sequenceID: Int32) -> [UInt8] {
      var writer = ThriftBinaryWriter(deterministic: true)
      writer.writeCall(method, args: args, sequenceID: sequenceID)
      return Array(buffer: writer.buffer)
    }
    let drawCall = call(EchoMethods.Draw.self, .init(drawing: drawing, times: 2), sequenceID: 7)
    #expect(drawCall.hex == (try peer.bytes("msg_call_draw")).hex)
    let failingCall = call(EchoMethods.Draw.self, .init(drawing: drawing, times: -3), sequenceID: 8)
    #expect(failingCall.hex == (try peer.bytes("msg_call_draw_failing")).hex)
    let ping = call(EchoMethods.Ping.self, .init(note: "hi"), sequenceID: 3)
    #expect(ping.hex == (try peer.bytes("msg_oneway_ping")).hex)
    toPython += [
      ("msg_call_draw", drawCall), ("msg_call_draw_failing", failingCall),
      ("msg_oneway_ping", ping),
    ]

    // Skein's processor answers Python's calls as Python's processor does.
    for (callName, replyName) in [
      ("msg_call_draw", "msg_reply_draw"), ("msg_call_draw_failing", "msg_reply_failure"),
    ] {
      let reply = try #require(await processor.process(ByteBuffer(bytes: try peer.bytes(callName))))
      let expected = try peer.bytes(replyName)
      #expect(
        try decodeDrawReply(Array(buffer: reply)) == decodeDrawReply(expected),
        "\(replyName)"
      )
      toPython.append((replyName, Array(buffer: reply)))
    }
    #expect(await processor.process(ByteBuffer(bytes: ping)) == nil, "oneway calls get no reply")

    // An old-style (non-strict) header from Python reads the same as a strict one.
    var reader = ThriftBinaryReader(
      buffer: ByteBuffer(bytes: try peer.bytes("msg_call_draw_nonstrict"))
    )
    let header = try reader.readMessageBegin()
    #expect(header == ThriftMessageHeader(name: "draw", type: .call, sequenceID: 7))
    #expect(try EchoMethods.DrawArgs(from: &reader) == .init(drawing: drawing, times: 2))

    // Unknown methods and application exceptions.
    let unknown = try #require(
      await processor.process(ByteBuffer(bytes: try peer.bytes("msg_unknown_method")))
    )
    toPython.append(("msg_unknown_method_reply", Array(buffer: unknown)))
    var exceptionReader = ThriftBinaryReader(
      buffer: ByteBuffer(bytes: try peer.bytes("msg_app_exception"))
    )
    #expect(
      try exceptionReader.readMessageBegin()
        == ThriftMessageHeader(name: "draw", type: .exception, sequenceID: 11)
    )
    let exception = try ThriftApplicationException(from: &exceptionReader)
    #expect(exception == ThriftApplicationException(.internalError, "it broke"))
    var writer = ThriftBinaryWriter()
    writer.writeException(exception, method: "draw", sequenceID: 11)
    #expect(Array(buffer: writer.buffer).hex == (try peer.bytes("msg_app_exception")).hex)
    toPython.append(("msg_app_exception", Array(buffer: writer.buffer)))

    let verdicts = try await peer.check(toPython)
    for (name, _) in toPython {
      #expect(verdicts[name] == "ok", "\(name): \(verdicts[name] ?? "no verdict")")
    }
  }

  /// A `draw` reply's outcome: the drawing, or the declared exception.
  private func decodeDrawReply(_ bytes: [UInt8]) throws -> Swift.Result<Drawing, Failure> {
    var reader = ThriftBinaryReader(buffer: ByteBuffer(bytes: bytes))
    let header = try reader.readMessageBegin()
    let result = try reader.readReply(EchoMethods.Draw.self, header: header)
    do {
      return .success(try result.get())
    } catch let failure as Failure {
      return .failure(failure)
    }
  }
}

extension Entry: CustomTestStringConvertible {
  var testDescription: String { name }
}

extension [UInt8] {
  init?(hex: Substring) {
    guard hex.count.isMultiple(of: 2) else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(hex.count / 2)
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
      bytes.append(byte)
      index = next
    }
    self = bytes
  }

  var hex: String { map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
