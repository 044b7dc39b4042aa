import NIOCore
import SkeinThrift
import Testing

/// One encoded value of a wire type, for the skip tests.
struct SkipCase: Sendable, CustomTestStringConvertible {
  var label: String
  var type: ThriftType
  var wire: [UInt8]

  var testDescription: String { label }

  static let all: [SkipCase] = [
    SkipCase(label: "bool", type: .bool, wire: [0x01]),
    SkipCase(label: "i8", type: .i8, wire: [0xff]),
    SkipCase(label: "i16", type: .i16, wire: be16(-2)),
    SkipCase(label: "i32", type: .i32, wire: be32(123_456)),
    SkipCase(label: "i64", type: .i64, wire: be64(.min)),
    SkipCase(label: "double", type: .double, wire: written { $0.writeDouble(.nan) }),
    SkipCase(label: "string", type: .string, wire: wireString("héllo, 世界")),
    SkipCase(label: "empty string", type: .string, wire: wireString("")),
    SkipCase(label: "binary", type: .string, wire: written { $0.writeBinary([0, 0xff, 0xc0]) }),
    SkipCase(label: "uuid", type: .uuid, wire: Array(0..<16)),
    SkipCase(label: "enum", type: .i32, wire: written { $0.writeEnum(Color(rawValue: 1234)) }),
    SkipCase(label: "empty struct", type: .struct, wire: [0x00]),
    SkipCase(
      label: "struct",
      type: .struct,
      wire: bytes(of: Address(street: "s", zip: 1, tags: ["a", "b"]).encoded())
    ),
    SkipCase(
      label: "nested structs",
      type: .struct,
      wire: bytes(of: Tree.chain(depth: 10).encoded())
    ),
    SkipCase(
      label: "struct with every type",
      type: .struct,
      wire: bytes(of: PersonV2.sample.encoded())
    ),
    SkipCase(label: "empty list", type: .list, wire: listHeader(.struct, 0)),
    SkipCase(
      label: "list<i32>",
      type: .list,
      wire: listHeader(.i32, 3) + be32(1) + be32(2) + be32(3)
    ),
    SkipCase(label: "list<bool>", type: .list, wire: listHeader(.bool, 2) + [1, 0]),
    SkipCase(
      label: "list<uuid>",
      type: .list,
      wire: listHeader(.uuid, 2) + Array(repeating: 7, count: 32)
    ),
    SkipCase(label: "list<double>", type: .list, wire: listHeader(.double, 1) + be64(0)),
    SkipCase(
      label: "list<string>",
      type: .list,
      wire: listHeader(.string, 2) + wireString("a") + wireString("")
    ),
    SkipCase(
      label: "list<struct>",
      type: .list,
      wire: written { $0.writeList(PersonV2.sample.previous, of: .struct) { $0.writeStruct($1) } }
    ),
    SkipCase(
      label: "list<list<i16>>",
      type: .list,
      wire: listHeader(.list, 2) + listHeader(.i16, 1) + be16(5) + listHeader(.i16, 0)
    ),
    SkipCase(
      label: "list<map<string,i8>>",
      type: .list,
      wire: listHeader(.map, 1) + mapHeader(.string, .i8, 1) + wireString("k") + [9]
    ),
    SkipCase(label: "empty set", type: .set, wire: listHeader(.string, 0)),
    SkipCase(label: "set<i64>", type: .set, wire: listHeader(.i64, 2) + be64(1) + be64(2)),
    SkipCase(
      label: "set<struct>",
      type: .set,
      wire: written { $0.writeSet(PersonV2.sample.places, of: .struct) { $0.writeStruct($1) } }
    ),
    SkipCase(
      label: "set<set<string>>",
      type: .set,
      wire: listHeader(.set, 1) + listHeader(.string, 1) + wireString("x")
    ),
    SkipCase(label: "empty map", type: .map, wire: mapHeader(.i32, .struct, 0)),
    SkipCase(label: "map<i32,i64>", type: .map, wire: mapHeader(.i32, .i64, 1) + be32(1) + be64(2)),
    SkipCase(
      label: "map<string,struct>",
      type: .map,
      wire: written {
        $0.writeMap(PersonV2.sample.byName, of: .string, .struct) {
          $0.writeString($1)
          $0.writeStruct($2)
        }
      }
    ),
    SkipCase(
      label: "map<struct,list<struct>>",
      type: .map,
      wire: mapHeader(.struct, .list, 1)
        + bytes(of: Address(street: "key", zip: 1).encoded())
        + listHeader(.struct, 2) + bytes(of: Tree(value: 1).encoded())
        + bytes(of: Tree.chain(depth: 3).encoded())
    ),
    SkipCase(
      label: "map<string,map<string,list<i8>>>",
      type: .map,
      wire: written { writer in
        writer.writeMap(PersonV2.sample.nested, of: .string, .map) { writer, key, inner in
          writer.writeString(key)
          writer.writeMap(inner, of: .string, .list) { writer, key, list in
            writer.writeString(key)
            writer.writeList(list, of: .i8) { $0.writeI8($1) }
          }
        }
      }
    ),
  ]
}

@Suite("Skipping")
struct SkipTests {
  static let sentinel: Int32 = 0x7e57_7e57

  @Test("skip steps over exactly one value of each type", arguments: SkipCase.all)
  func skipConsumesExactlyOneValue(value: SkipCase) throws {
    var input = reader(value.wire + be32(Self.sentinel))
    try input.skip(value.type)
    #expect(try input.readI32() == Self.sentinel)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("skip fails on a value cut short anywhere", arguments: SkipCase.all)
  func skipTruncated(value: SkipCase) throws {
    for length in 0..<value.wire.count {
      expectProtocolError(.truncated) {
        var input = reader(Array(value.wire.prefix(length)))
        try input.skip(value.type)
      }
    }
  }

  @Test(
    "an old reader skips an unknown field of each type and still reads the fields it knows",
    arguments: SkipCase.all
  )
  func unknownFieldIsSkipped(value: SkipCase) throws {
    let wire =
      fieldHeader(.string, 1) + wireString("Grace")
      + fieldHeader(value.type, 99) + value.wire
      + fieldHeader(.i32, 2) + be32(85)
      + [0x00]
    var input = reader(wire)
    #expect(try PersonV1(from: &input) == PersonV1(name: "Grace", age: 85))
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a known field id with an unexpected type is skipped, not misread", arguments: SkipCase.all)
  func mistypedKnownFieldIsSkipped(value: SkipCase) throws {
    guard value.type != .i32 else { return }
    let wire =
      fieldHeader(value.type, 2) + value.wire + fieldHeader(.string, 1) + wireString("n") + [0x00]
    #expect(try PersonV1(decoding: wire) == PersonV1(name: "n", age: 0))
  }

  @Test("V1 decodes V2's bytes: every added field is skipped")
  func forwardCompatibility() throws {
    let v2 = PersonV2.sample
    let wire = v2.encoded()
    var input = ThriftBinaryReader(buffer: wire)
    let v1 = try PersonV1(from: &input)
    #expect(v1 == PersonV1(name: "Ada", age: 36))
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("V2 decodes V1's bytes: added fields keep their defaults")
  func backwardCompatibility() throws {
    let v2 = try PersonV2(decoding: PersonV1(name: "Old", age: 99).encoded())
    var expected = PersonV2()
    expected.name = "Old"
    expected.age = 99
    #expect(v2 == expected)
  }

  @Test("V1 reads a list of V2 values and the data after it")
  func forwardCompatibilityInContainers() throws {
    var second = PersonV2.sample
    second.name = "Bea"
    second.age = 7
    let wire = written { writer in
      writer.writeList([PersonV2.sample, second], of: .struct) { $0.writeStruct($1) }
      writer.writeMap(["x": second], of: .string, .struct) {
        $0.writeString($1)
        $0.writeStruct($2)
      }
      writer.writeI32(Self.sentinel)
    }
    var input = reader(wire)
    let list = try input.readList(of: .struct) { try $0.readStruct(PersonV1.self) }
    #expect(list == [PersonV1(name: "Ada", age: 36), PersonV1(name: "Bea", age: 7)])
    let map: [String: PersonV1] = try input.readMap(of: .string, .struct) {
      (try $0.readString(), try $0.readStruct(PersonV1.self))
    }
    #expect(map == ["x": PersonV1(name: "Bea", age: 7)])
    #expect(try input.readI32() == Self.sentinel)
  }

  @Test("skip of a whole struct matches its encoded length")
  func skipWholeStruct() throws {
    let wire = PersonV2.sample.encoded()
    var input = ThriftBinaryReader(buffer: wire)
    try input.skip(.struct)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("stop and void are not values to skip", arguments: [ThriftType.stop, .void])
  func skipStopOrVoid(type: ThriftType) throws {
    expectProtocolError(.unknownType, value: Int64(type.rawValue)) {
      var input = reader([0, 0, 0, 0])
      try input.skip(type)
    }
  }

  @Test("skip rejects unknown type ids inside structs and containers")
  func skipUnknownNestedTypes() throws {
    let cases: [(ThriftType, [UInt8], UInt8)] = [
      (.struct, [0x05, 0x00, 0x01, 0x00], 5),
      (.struct, [0x01, 0x00, 0x01, 0x00], 1),
      (.struct, fieldHeader(.list, 1) + [0x11, 0, 0, 0, 1, 0] + [0x00], 0x11),
      (.list, [0x00, 0, 0, 0, 1, 0], 0),
      (.list, [0x07, 0, 0, 0, 1, 0], 7),
      (.set, [0xff, 0, 0, 0, 0], 0xff),
      (.map, [0x09, 0x08, 0, 0, 0, 0], 9),
      (.map, [0x08, 0x01, 0, 0, 0, 0], 1),
    ]
    for (type, wire, raw) in cases {
      expectProtocolError(.unknownType, value: Int64(raw)) {
        var input = reader(wire)
        try input.skip(type)
      }
    }
  }
}
