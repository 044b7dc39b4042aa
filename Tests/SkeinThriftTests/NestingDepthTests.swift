import NIOCore
import SkeinThrift
import Testing

// Structs and containers nest; the reader counts both against maxNestingDepth so that crafted
// input cannot recurse without bound, whether it is decoded or skipped.

/// Bytes of `depth` lists nested in one another: each holds one list, the innermost none.
func nestedLists(depth: Int) -> [UInt8] {
  Array((0..<depth).map { $0 == depth - 1 ? listHeader(.list, 0) : listHeader(.list, 1) }.joined())
}

/// Reads nested lists as generated code for `list<list<…>>` would, returning the depth found.
func readNestedLists(_ reader: inout ThriftBinaryReader) throws -> Int {
  let inner = try reader.readList(of: .list) { try readNestedLists(&$0) }
  return 1 + (inner.first ?? 0)
}

/// Bytes of `depth` structs nested through field 2, the way ``Tree`` writes them.
func nestedStructs(depth: Int) -> [UInt8] {
  Array(repeating: fieldHeader(.struct, 2), count: depth - 1).flatMap { $0 }
    + Array(repeating: 0x00, count: depth)
}

@Suite("Nesting depth")
struct NestingDepthTests {
  @Test("100 nested lists break maxNestingDepth, read or skipped")
  func deepLists() throws {
    let wire = nestedLists(depth: 100)
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      var input = reader(wire)
      _ = try readNestedLists(&input)
    }
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      var input = reader(wire)
      try input.skip(.list)
    }
  }

  @Test("64 nested lists are within the default depth; 65 are not")
  func listDepthBoundary() throws {
    var input = reader(nestedLists(depth: 64))
    #expect(try readNestedLists(&input) == 64)
    var skipping = reader(nestedLists(depth: 64))
    try skipping.skip(.list)
    #expect(skipping.buffer.readableBytes == 0)
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      var input = reader(nestedLists(depth: 65))
      try input.skip(.list)
    }
  }

  @Test("100 nested structs break maxNestingDepth, decoded or skipped")
  func deepStructs() throws {
    let wire = nestedStructs(depth: 100)
    #expect(wire.count == 99 * 3 + 100)
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      _ = try Tree(decoding: wire)
    }
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      var input = reader(wire)
      try input.skip(.struct)
    }
    // An old reader that skips the deep struct as an unknown field is protected too.
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      _ = try PersonV1(decoding: fieldHeader(.struct, 50) + wire + [0x00])
    }
  }

  @Test("64 nested structs decode; 65 do not")
  func structDepthBoundary() throws {
    let tree = try Tree(decoding: nestedStructs(depth: 64))
    #expect(tree.depth == 64)
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      _ = try Tree(decoding: nestedStructs(depth: 65))
    }
  }

  @Test("structs and containers count together toward the depth")
  func mixedNesting() throws {
    // struct { 1: list<map<i8, set<struct { … }>>> } repeated: each round is four levels.
    var wire: [UInt8] = []
    let rounds = 30
    for _ in 0..<rounds {
      wire +=
        fieldHeader(.list, 1) + listHeader(.map, 1) + mapHeader(.i8, .set, 1) + [0x01]
        + listHeader(.struct, 1)
    }
    wire += [0x00]
    for _ in 0..<rounds { wire += [0x00] }
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 65) {
      var input = reader(wire)
      try input.skip(.struct)
    }
    let limits = ThriftLimits(maxNestingDepth: 4 * rounds + 1)
    var input = reader(wire, limits: limits)
    try input.skip(.struct)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a custom nesting limit is enforced")
  func customDepth() throws {
    let limits = ThriftLimits(maxNestingDepth: 2)
    let wire = bytes(of: Tree.chain(depth: 2).encoded())
    #expect(try Tree(decoding: wire, limits: limits).depth == 2)
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 3) {
      _ = try Tree(decoding: Tree.chain(depth: 3).encoded(), limits: limits)
    }
    expectProtocolError(.limitExceeded, limit: .maxNestingDepth, value: 3) {
      var input = reader(nestedLists(depth: 3), limits: limits)
      try input.skip(.list)
    }
  }

  @Test("depth is restored after each container and struct, so siblings do not accumulate")
  func depthIsRestored() throws {
    let limits = ThriftLimits(maxNestingDepth: 3)
    // 100 sibling lists of lists inside one struct: depth never exceeds 3.
    var wire: [UInt8] = []
    for id in 1...100 {
      wire += fieldHeader(.list, Int16(id)) + listHeader(.list, 1) + listHeader(.i32, 1) + be32(1)
    }
    wire += [0x00]
    var input = reader(wire, limits: limits)
    try input.skip(.struct)
    var decoding = reader(wire + wire, limits: limits)
    for _ in 0..<2 {
      try decoding.readStructBegin()
      while let field = try decoding.readFieldBegin() {
        let value = try decoding.readList(of: .list) { reader in
          try reader.readList(of: .i32) { try $0.readI32() }
        }
        #expect(field.type == .list)
        #expect(value == [[1]])
      }
      decoding.readStructEnd()
    }
    #expect(decoding.buffer.readableBytes == 0)
  }
}
