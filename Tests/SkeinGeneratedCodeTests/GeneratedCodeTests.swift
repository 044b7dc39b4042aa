import Foundation
import NIOCore
import SkeinThrift
import Testing

// Code the build plugin generated from edge_cases.thrift and shared.thrift: that it compiles
// at all is half the test; these check that it behaves.

/// Calls a processor in memory, through the same bytes a socket would carry.
struct LoopbackInvoker<Service: ThriftService>: ThriftCallInvoker {
  let processor: ThriftProcessor<Service>

  func invoke<Method: ThriftMethod>(_ method: Method.Type, named name: String, args: Method.Args)
    async throws -> Method.Result
  {
    var writer = ThriftBinaryWriter()
    writer.writeCall(method, named: name, args: args, sequenceID: 41)
    guard let reply = await processor.process(writer.buffer) else {
      return try Method.Result(decoding: [UInt8]([0]))  // oneway: an empty result
    }
    var reader = ThriftBinaryReader(buffer: reply)
    let header = try reader.readMessageBegin()
    #expect(header.sequenceID == 41 && header.name == name)
    return try reader.readReply(method, header: header)
  }
}

actor DerivedHandler: Derived {
  var fired: [Node] = []

  func version() async throws -> String { "1.0" }

  func get(id: String, c: class_) async throws -> Everything {
    if id.isEmpty { throw Oops(message: "empty id", level: .low) }
    return Everything(
      id: id + c.`self`,
      token: UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16))
    )
  }

  func nothing() async throws {}

  func fire(node: Node) async throws { fired.append(node) }
}

@Suite struct GeneratedCodeTests {
  @Test func keywordNamesRoundTrip() throws {
    let value = class_(
      self: "me",
      func: 1,
      type: true,
      protocol: "p",
      in: -5,
      default: "d",
      where: ["w"]
    )
    #expect(try class_(decoding: value.encoded()) == value)
    #expect(value.`self` == "me" && value.`func` == 1 && value.`where` == ["w"])
  }

  @Test func constants() {
    typealias C = EdgeCasesConstants
    #expect(C.greeting == "hi \"there\"\n")
    #expect(C.pi == 3.14159 && C.big == Int64.min && C.on)
    #expect(C.primes == [2, 3, 5, 7] && C.words == ["a", "b"] && C.table == ["x": [1], "y": []])
    #expect(C.top == .higher && C.top.rawValue == 6 && C.limitCopy == SharedConstants.limit)
    #expect(C.defaultTag == Tag(key: "k", value: "v"))
    #expect(C.nilId == UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
  }

  @Test func defaultsAndRequiredFields() throws {
    let everything = Everything(id: "x")
    #expect(everything.level == .high && everything.limit == 10 && everything.ratio == 1)
    #expect(
      everything.tag == EdgeCasesConstants.defaultTag && everything.primes == [2, 3, 5, 7]
        && everything.b == -1
    )
    #expect(everything.token == nil && everything.maybeToken == nil && everything.empty.isEmpty)
    // A message without the required `id` does not decode, and says what is missing.
    let error = #expect(throws: ThriftProtocolError.self) {
      try Everything(decoding: [UInt8]([0]))
    }
    #expect(error?.code == .missingRequiredField)
    #expect(error?.description.contains("'id'") == true)
    let token = UUID()
    let full = Everything(
      id: "y",
      token: token,
      maybeToken: token,
      labels: [Tag(key: "a")],
      byLevel: [.low: [[1, 2]], .unrecognized(77): []]
    )
    #expect(try Everything(decoding: full.encoded()) == full)
  }

  @Test func enumsKeepUnknownValues() throws {
    #expect(Level(rawValue: 5) == .high)
    #expect(Level(rawValue: 99) == .unrecognized(99))
    #expect(Level(rawValue: 99).rawValue == 99)
    #expect(Level.allKnownCases == [.low, .high, .higher])
  }

  @Test func recursiveTypes() throws {
    var tree = Node(
      name: "root",
      children: [Node(name: "a"), Node(name: "b", children: [Node(name: "c")])]
    )
    tree.parent = Node(name: "up")
    #expect(try Node(decoding: tree.encoded()) == tree)

    let chain = Chain(value: 1, next: Chain(value: 2, next: Chain(value: 3)))
    var copy = chain
    copy.next?.value = 20
    #expect(chain.next?.value == 2, "boxed fields keep value semantics")
    #expect(try Chain(decoding: copy.encoded()) == copy)

    let expr = Expr.sum(Sum(left: .literal(1), right: .negated(.literal(2))))
    #expect(try Expr(decoding: expr.encoded()) == expr)
  }

  @Test func serviceRoundTripThroughProcessor() async throws {
    let handler = DerivedHandler()
    let client = DerivedClient(
      LoopbackInvoker(processor: ThriftProcessor(DerivedProcessor(handler)))
    )
    #expect(try await client.version() == "1.0")
    let got = try await client.get(id: "a", c: class_(self: "b"))
    #expect(got.id == "ab" && got.token != nil)
    await #expect(throws: Oops(message: "empty id", level: .low)) {
      try await client.get(id: "", c: class_())
    }
    try await client.nothing()
    try await client.fire(node: Node(name: "n"))
    #expect(await handler.fired == [Node(name: "n")])
    #expect(DerivedProcessor<DerivedHandler>.methodNames == ["version", "get", "nothing", "fire"])
  }
}
