import Logging
import NIOCore
import NIOPosix
import SkeinRPC
import SkeinThrift
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// A live server on loopback against clients that break the protocol on purpose. After each
// bad connection: the server closed it and logged why (with the peer, and the limit when one
// was broken), its memory did not grow with the sizes the bytes claimed, and a fresh client's
// valid call still gets its answer.
//
//   swift test --filter HostileClientTests

@Suite("Hostile clients against a live server", .serialized, .timeLimit(.minutes(1)))
struct HostileClientTests {
  /// Sizes the hostile bytes claim stay under these limits, so only the check against the
  /// bytes actually in the frame stands between a claim and an allocation of its size.
  static let looseLimits = ThriftLimits(
    maxFrameSize: 16 * 1024 * 1024,
    maxStringLength: Int(Int32.max),
    maxContainerCount: Int(Int32.max),
    maxNestingDepth: 64
  )

  /// What one bad connection sends, and what the server's log line must say about it.
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// The server's log message for the close.
    var logged: String
    /// A part of the logged reason.
    var reason: String
    /// The limit the log names, if one was broken.
    var limit: String?
    /// Whether the server answers with an exception before closing (a readable header).
    var answered: Bool
    var limits: ThriftLimits = HostileClientTests.looseLimits

    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "frame length 0",
      bytes: [0, 0, 0, 0],
      logged: "closing connection: bad frame",
      reason: "empty frame",
      answered: false
    ),
    Case(
      name: "negative frame length",
      bytes: [0xff, 0xff, 0xff, 0xfe] + Array(repeating: 0, count: 16),
      logged: "closing connection: bad frame",
      reason: "negative size -2",
      answered: false
    ),
    Case(
      name: "frame length 2^31-1",
      bytes: [0x7f, 0xff, 0xff, 0xff] + Array(repeating: 0, count: 64),
      logged: "closing connection: bad frame",
      reason: "2147483647",
      limit: "maxFrameSize",
      answered: false
    ),
    Case(
      name: "string claiming 2 GiB in a small frame",
      bytes: Wire.call(request: Wire.field(.string, 1) + Wire.i32(Int32.max - 1) + [0x41, 0x42]),
      logged: "closing connection: corrupt request",
      reason: "string needs 2147483646 bytes",
      answered: true
    ),
    Case(
      name: "string over maxStringLength",
      bytes: Wire.call(request: Wire.field(.string, 1) + Wire.i32(Int32.max) + [0x41]),
      logged: "closing connection: corrupt request",
      reason: "exceeds maxStringLength",
      limit: "maxStringLength",
      answered: true,
      limits: .default
    ),
    Case(
      name: "list claiming a billion i64s",
      bytes: Wire.call(
        request: Wire.field(.list, 99) + [ThriftType.i64.rawValue] + Wire.i32(1 << 30)
          + Wire.i64(7)
      ),
      logged: "closing connection: corrupt request",
      reason: "list of 1073741824 elements",
      answered: true
    ),
    Case(
      name: "map claiming 2^31-1 entries, over maxContainerCount",
      bytes: Wire.call(
        request: Wire.field(.map, 99) + [ThriftType.string.rawValue, ThriftType.string.rawValue]
          + Wire.i32(Int32.max)
      ),
      logged: "closing connection: corrupt request",
      reason: "exceeds maxContainerCount",
      limit: "maxContainerCount",
      answered: true,
      limits: .default
    ),
    Case(
      name: "structs nested deeper than maxNestingDepth",
      bytes: Wire.call(
        request: Array((0..<200).map { _ in Wire.field(.struct, 99) }.joined())
          + Array(repeating: 0, count: 200)
      ),
      logged: "closing connection: corrupt request",
      reason: "exceeds maxNestingDepth",
      limit: "maxNestingDepth",
      answered: true
    ),
    Case(
      name: "unknown type id",
      bytes: Wire.call(request: [0x42, 0x00, 0x07] + Wire.i32(1) + [0]),
      logged: "closing connection: corrupt request",
      reason: "unknown type id 66",
      answered: true
    ),
    Case(
      name: "unreadable message header",
      bytes: Wire.frame([0x80, 0x01, 0x00, 0x01] + Wire.i32(1 << 30)),
      logged: "closing connection: corrupt request",
      reason: "string needs 1073741824 bytes",
      answered: false
    ),
  ]

  @Test(
    "a bad frame or corrupt request closes the connection, logged, and costs no memory",
    arguments: cases
  )
  func badInput(_ hostile: Case) async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs, limits: hostile.limits)
    let rss = residentBytes()

    let peer = try await RawPeer.connect(server.address)
    try await peer.send(hostile.bytes)
    #expect(await peer.closedByServer(within: .seconds(5)), "the server kept the connection open")
    let after = residentBytes()
    #expect(after.now - rss.now < Self.memoryBound, "RSS grew with the claimed size")
    #expect(after.peak - rss.peak < Self.memoryBound, "RSS peaked with the claimed size")

    let entry = try #require(await logs.first(hostile.logged, within: .seconds(2)))
    #expect(entry.level >= .notice)
    #expect(entry.metadata["peer"] == peer.localAddress, "the log names the peer")
    #expect(entry.metadata["reason"]?.contains(hostile.reason) == true, "\(entry.metadata)")
    if let limit = hostile.limit { #expect(entry.metadata["limit"] == limit) }
    if hostile.answered {
      let reply = try #require(peer.firstFrame(), "no exception reply before the close")
      var reader = ThriftBinaryReader(buffer: reply)
      #expect(try reader.readMessageBegin().type == .exception)
      #expect(try ThriftApplicationException(from: &reader).kind == .protocolError)
    }

    try await expectServes(server)
    await server.stop()
  }

  @Test("a frame cut short by the client's close is logged as truncated")
  func truncatedFrame() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs)
    let frame = Wire.call(request: Wire.field(.string, 1) + Wire.i32(5) + Array("hello".utf8))
    let peer = try await RawPeer.connect(server.address)
    try await peer.send(Array(frame.prefix(frame.count / 2)))
    try await peer.close()

    let entry = try #require(await logs.first("closing connection: bad frame", within: .seconds(2)))
    #expect(entry.level >= .notice)
    #expect(entry.metadata["peer"] == peer.localAddress)
    #expect(entry.metadata["reason"]?.hasPrefix("truncated: frame needs \(frame.count)") == true)
    try await expectServes(server)
    await server.stop()
  }

  @Test("a client that trickles a frame in is cut off after frameReadTimeout (slowloris)")
  func slowloris() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs, frameReadTimeout: .milliseconds(300))
    let peer = try await RawPeer.connect(server.address)
    let frame = Wire.call(request: Wire.field(.string, 1) + Wire.i32(5) + Array("hello".utf8))
    let started = ContinuousClock.now
    // One byte each 50 ms: the frame would take 2.5 s; the server gives it 300 ms.
    for byte in frame {
      guard (try? await peer.send([byte])) != nil, !peer.isClosed else { break }
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(await peer.closedByServer(within: .seconds(2)))
    #expect(ContinuousClock.now - started < .seconds(2), "the trickle was allowed to finish")

    let entry = try #require(await logs.first("closing connection: frame read timeout"))
    #expect(entry.level >= .notice)
    #expect(entry.metadata["peer"] == peer.localAddress)
    #expect(entry.metadata["limit"] == "frameReadTimeout")
    try await expectServes(server)
    await server.stop()
  }

  @Test("steady pipelined frames are not taken for a slow one")
  func pipelinedFramesAreNotSlow() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs, frameReadTimeout: .seconds(1))
    let peer = try await RawPeer.connect(server.address)
    let frame = Wire.call(request: Wire.field(.string, 1) + Wire.i32(2) + Array("ok".utf8))
    // Each write ends inside the next frame, for longer than the timeout in all (16 writes
    // 100 ms apart); but every frame finishes well within it.
    var stream: [UInt8] = []
    for _ in 0..<24 { stream += frame }
    let chunk = frame.count + frame.count / 2
    var offset = 0
    while offset < stream.count {
      do {
        try await peer.send(Array(stream[offset..<min(offset + chunk, stream.count)]))
      } catch {
        Issue.record("send failed at \(offset): \(error); logs: \(logs.all)")
        return
      }
      offset += chunk
      try await Task.sleep(for: .milliseconds(100))
    }
    try await Task.sleep(for: .milliseconds(100))
    #expect(!peer.isClosed)
    #expect(await logs.first("closing connection", within: .zero) == nil)
    try await peer.close()
    await server.stop()
  }

  @Test("requests pipelined in one write are all answered, those that suspend too")
  func pipelinedInOneWrite() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs)
    let peer = try await RawPeer.connect(server.address)
    let texts = (0..<40).map { "<\($0)>" }
    var stream: [UInt8] = []
    for (index, text) in texts.enumerated() {
      // Most calls end inside the read that brought them; every fourth handler sleeps, so its
      // call suspends and ends after the read.
      stream += Wire.call(text: text, delayMs: index % 4 == 0 ? 20 : 0)
    }
    try await peer.send(stream)
    let deadline = ContinuousClock.now + .seconds(5)
    while peer.frames().count < texts.count, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    let replies = peer.frames()
    #expect(replies.count == texts.count)
    let answered = replies.map { String(buffer: $0) }.joined()
    for text in texts { #expect(answered.contains(text), "no reply carries \(text)") }
    #expect(!peer.isClosed)
    try await peer.close()
    await server.stop()
  }

  @Test("a connection that sends nothing is closed after idleTimeout")
  func idleConnection() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs, idleTimeout: .milliseconds(300))
    let peer = try await RawPeer.connect(server.address)
    #expect(await peer.closedByServer(within: .seconds(2)))
    let entry = try #require(await logs.first("closing idle connection"))
    #expect(entry.metadata["peer"] == peer.localAddress)
    try await expectServes(server)
    await server.stop()
  }

  @Test("a flood of connections past maxConnections is refused; open ones keep working")
  func connectionFlood() async throws {
    let logs = LogCapture()
    let server = try await startServer(logs: logs, maxConnections: 8)
    // A client that connected before the flood, with its connection open.
    let client = try makeClient([server.address], connections: 1)
    let service = TestServiceClient(client)
    #expect(try await service.call(req: Request(text: "before")).text == "before")

    var flood: [RawPeer] = []
    for _ in 0..<64 {
      if let peer = try? await RawPeer.connect(server.address) { flood.append(peer) }
    }
    var refused = 0
    for peer in flood where await peer.closedByServer(within: .milliseconds(500)) {
      refused += 1
    }
    #expect(refused == flood.count - 7, "one slot is the client's, seven for the flood")
    #expect(try await service.call(req: Request(text: "during")).text == "during")
    let entry = try #require(await logs.first("refusing connection: maxConnections reached"))
    #expect(entry.level >= .notice)
    #expect(entry.metadata["limit"] == "maxConnections")
    #expect(logs.count("refusing connection: maxConnections reached") == refused)

    for peer in flood { try? await peer.close() }
    await client.shutdown()
    // Slots are given back as connections close.
    let fresh = ContinuousClock.now + .seconds(2)
    while ContinuousClock.now < fresh {
      if (try? await callOnce(server)) == "fresh" { break }
      try await Task.sleep(for: .milliseconds(20))
    }
    try await expectServes(server)
    await server.stop()
  }

  // MARK: Support

  /// Growth of the process's RSS that counts as "grew with the claimed size": far below the
  /// 1–2 GiB the bytes claim, far above what one connection and a few frames cost.
  static let memoryBound = 256 * 1024 * 1024

  func startServer(
    logs: LogCapture,
    limits: ThriftLimits = looseLimits,
    frameReadTimeout: Duration = .seconds(30),
    idleTimeout: Duration? = .seconds(300),
    maxConnections: Int = 4096
  ) async throws -> RunningServer {
    let server = try await RPCServer.bind(
      TestServiceProcessor(TestHandler(recorder: Recorder())),
      configuration: .init(
        port: 0,
        identity: ServiceIdentity(name: try ServiceName("test-server")),
        limits: limits,
        frameReadTimeout: frameReadTimeout,
        idleTimeout: idleTimeout,
        maxConnections: maxConnections
      ),
      logger: logs.logger
    )
    return RunningServer(server: server, task: Task { try await server.run() })
  }

  /// One call from a client of its own, which it then shuts down.
  func callOnce(_ server: RunningServer) async throws -> String {
    let client = try makeClient([server.address], connections: 1)
    defer { Task { await client.shutdown() } }
    return try await TestServiceClient(client).call(req: Request(text: "fresh")).text
  }

  /// The server answers a valid call from a fresh client.
  func expectServes(_ server: RunningServer, sourceLocation: SourceLocation = #_sourceLocation)
    async throws
  {
    #expect(try await callOnce(server) == "fresh", sourceLocation: sourceLocation)
  }

  /// The process's resident set now and at its peak, in bytes, from /proc/self/status (0 where
  /// there is none). The peak catches a claimed size allocated and freed again at once.
  func residentBytes() -> (now: Int, peak: Int) {
    #if canImport(Glibc)
      let file = open("/proc/self/status", O_RDONLY)
      guard file >= 0 else { return (0, 0) }
      defer { _ = Glibc.close(file) }
      var bytes = [UInt8](repeating: 0, count: 4096)
      let count = read(file, &bytes, bytes.count)
      guard count > 0 else { return (0, 0) }
      // Lines such as "VmHWM:\t   51200 kB".
      func kilobytes(_ key: String) -> Int {
        for line in String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: "\n")
        where line.hasPrefix(key) {
          return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) ?? 0
        }
        return 0
      }
      return (kilobytes("VmRSS:") * 1024, kilobytes("VmHWM:") * 1024)
    #else
      return (0, 0)
    #endif
  }
}

/// Builds the bytes of TestService requests by hand, so they can be wrong on purpose.
enum Wire {
  static func i32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
  static func i64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
  static func field(_ type: ThriftType, _ id: Int16) -> [UInt8] {
    [type.rawValue] + withUnsafeBytes(of: id.bigEndian, Array.init)
  }

  static func frame(_ message: [UInt8]) -> [UInt8] { i32(Int32(message.count)) + message }

  /// A framed `call` of TestService's `call` method whose `Request` struct holds `request`
  /// (its fields, raw) and then ends.
  static func call(request: [UInt8]) -> [UInt8] {
    let header = [0x80, 0x01, 0x00, 0x01] + i32(4) + Array("call".utf8) + i32(1)
    return frame(header + field(.struct, 1) + request + [0, 0])
  }

  /// A well-formed framed `call` of TestService's `call` method.
  static func call(text: String, delayMs: Int32 = 0) -> [UInt8] {
    call(
      request: field(.string, 1) + i32(Int32(text.utf8.count)) + Array(text.utf8)
        + field(.i32, 2) + i32(delayMs)
    )
  }
}

/// A TCP connection driven byte by byte, which records what the server sends back.
struct RawPeer: Sendable {
  let channel: any Channel
  private let received: Received
  /// The client's own `host:port`, as the server's log names it.
  let localAddress: String?

  var isClosed: Bool { !channel.isActive }

  static func connect(_ address: InstanceAddress) async throws -> RawPeer {
    let received = Received()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connectTimeout(.seconds(2))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(received)
        }
      }
      .connect(host: address.host, port: address.port)
      .get()
    return RawPeer(
      channel: channel,
      received: received,
      localAddress: InstanceAddress(channel.localAddress)?.description
    )
  }

  func send(_ bytes: [UInt8]) async throws {
    try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
  }

  func close() async throws {
    try await channel.close()
  }

  /// Whether the server closed the connection within `timeout`.
  func closedByServer(within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while channel.isActive, ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(10))
    }
    return !channel.isActive
  }

  /// The first complete frame the server sent, without its length.
  func firstFrame() -> ByteBuffer? {
    frames().first
  }

  /// Every complete frame the server sent so far, without their lengths.
  func frames() -> [ByteBuffer] {
    var bytes = ByteBuffer(bytes: received.bytes)
    var frames: [ByteBuffer] = []
    while let length = bytes.getInteger(at: bytes.readerIndex, as: Int32.self), length > 0,
      bytes.readableBytes >= 4 + Int(length)
    {
      bytes.moveReaderIndex(forwardBy: 4)
      frames.append(bytes.readSlice(length: Int(length))!)
    }
    return frames
  }

  final class Received: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let state = Mutex<[UInt8]>([])

    var bytes: [UInt8] { state.withLock { $0 } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      let buffer = unwrapInboundIn(data)
      state.withLock { $0 += buffer.readableBytesView }
    }
  }
}

/// A swift-log handler that keeps every entry, for tests that assert on what was logged.
final class LogCapture: Sendable {
  struct Entry: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
  }

  private let entries = Mutex<[Entry]>([])

  var logger: Logger {
    Logger(label: "skein.server") { _ in Handler(capture: self) }
  }

  func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

  var all: [Entry] { entries.withLock { $0 } }

  func count(_ message: String) -> Int {
    entries.withLock { $0.filter { $0.message == message }.count }
  }

  /// The first entry with `message`, waiting up to `timeout` for it.
  func first(_ message: String, within timeout: Duration = .seconds(2)) async -> Entry? {
    let deadline = ContinuousClock.now + timeout
    while true {
      if let entry = entries.withLock({ $0.first { $0.message.hasPrefix(message) } }) {
        return entry
      }
      if ContinuousClock.now >= deadline { return nil }
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  struct Handler: LogHandler {
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      capture.append(
        Entry(
          level: event.level,
          message: event.message.description,
          metadata: metadata.merging(event.metadata ?? [:]) { $1 }.mapValues(\.description)
        )
      )
    }
  }
}
