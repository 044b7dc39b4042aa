import Foundation
import NIOCore
import SkeinThrift
import Testing

@Suite("Struct and container coding")
struct ContainerCodingTests {
  @Test("a field header is the type id, then the big-endian field id")
  func fieldHeaderWireBytes() throws {
    #expect(written { $0.writeFieldBegin(.i32, id: 1) } == [0x08, 0x00, 0x01])
    #expect(written { $0.writeFieldBegin(.string, id: 0x0102) } == [0x0b, 0x01, 0x02])
    #expect(written { $0.writeFieldBegin(.struct, id: -1) } == [0x0c, 0xff, 0xff])
    #expect(written { $0.writeFieldStop() } == [0x00])

    var input = reader([0x08, 0x00, 0x01, 0x0f, 0xff, 0xfe, 0x00])
    try input.readStructBegin()
    #expect(try input.readFieldBegin() == ThriftFieldHeader(type: .i32, id: 1))
    #expect(try input.readFieldBegin() == ThriftFieldHeader(type: .list, id: -2))
    #expect(try input.readFieldBegin() == nil)
    input.readStructEnd()
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a struct is its fields, then a stop byte")
  func structWireBytes() throws {
    let address = Address(street: "Elm", zip: 7, tags: ["a"])
    let expected: [UInt8] =
      fieldHeader(.string, 1) + wireString("Elm")
      + fieldHeader(.i32, 2) + be32(7)
      + fieldHeader(.list, 3) + listHeader(.string, 1) + wireString("a")
      + [0x00]
    #expect(bytes(of: address.encoded()) == expected)
    #expect(try Address(decoding: expected) == address)
    #expect(try Address(decoding: ByteBuffer(bytes: expected)) == address)
  }

  @Test("an empty struct is a lone stop byte")
  func emptyStruct() throws {
    #expect(bytes(of: ThriftOnewayResult().encoded()) == [0x00])
    #expect(try Address(decoding: [0x00]) == Address(street: "", zip: 0))
  }

  @Test("a struct nested in a struct")
  func nestedStructWireBytes() throws {
    let tree = Tree(value: 1, child: Tree(value: 2))
    let expected: [UInt8] =
      fieldHeader(.i32, 1) + be32(1)
      + fieldHeader(.struct, 2) + fieldHeader(.i32, 1) + be32(2) + [0x00]
      + [0x00]
    #expect(bytes(of: tree.encoded()) == expected)
    #expect(try Tree(decoding: expected) == tree)
  }

  @Test("a list is its element type and i32 count, then the elements")
  func listWireBytes() throws {
    let wire = written { $0.writeList([1, -1, 256] as [Int32], of: .i32) { $0.writeI32($1) } }
    #expect(wire == [0x08, 0, 0, 0, 3] + be32(1) + be32(-1) + be32(256))
    var input = reader(wire)
    #expect(try input.readList(of: .i32) { try $0.readI32() } == [1, -1, 256])
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("the list header alone")
  func listHeaderWireBytes() throws {
    #expect(written { $0.writeListBegin(.string, count: 2) } == [0x0b, 0, 0, 0, 2])
    #expect(written { $0.writeSetBegin(.i64, count: 0x0102) } == [0x0a, 0, 0, 0x01, 0x02])
    #expect(written { $0.writeMapBegin(.i16, .double, count: 1) } == [0x06, 0x04, 0, 0, 0, 1])

    var input = reader(listHeader(.i16, 2) + be16(1) + be16(2))
    let header = try input.readListBegin()
    #expect(header.elementType == .i16)
    #expect(header.count == 2)
  }

  @Test("empty containers are a header with count 0")
  func emptyContainers() throws {
    let list = written { $0.writeList([String](), of: .string) { $0.writeString($1) } }
    #expect(list == [0x0b, 0, 0, 0, 0])
    let set = written { $0.writeSet(Set<Int32>(), of: .i32) { $0.writeI32($1) } }
    #expect(set == [0x08, 0, 0, 0, 0])
    let map = written {
      $0.writeMap([String: Int64](), of: .string, .i64) {
        $0.writeString($1)
        $0.writeI64($2)
      }
    }
    #expect(map == [0x0b, 0x0a, 0, 0, 0, 0])

    var input = reader(list + set + map)
    #expect(try input.readList(of: .string) { try $0.readString() }.isEmpty)
    #expect(try input.readSet(of: .i32) { try $0.readI32() }.isEmpty)
    let decoded: [String: Int64] = try input.readMap(of: .string, .i64) {
      (try $0.readString(), try $0.readI64())
    }
    #expect(decoded.isEmpty)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("an empty container's element type is not checked, since nothing is read")
  func emptyContainerWithOtherElementType() throws {
    var input = reader(listHeader(.i64, 0) + listHeader(.struct, 0) + mapHeader(.bool, .uuid, 0))
    #expect(try input.readList(of: .string) { try $0.readString() }.isEmpty)
    #expect(try input.readSet(of: .i32) { try $0.readI32() }.isEmpty)
    let map: [String: String] = try input.readMap(of: .string, .string) {
      (try $0.readString(), try $0.readString())
    }
    #expect(map.isEmpty)
  }

  @Test("a non-empty container of the wrong element type is invalid data")
  func wrongElementType() throws {
    expectProtocolError(.invalidData) {
      var input = reader(listHeader(.i32, 1) + be32(1))
      _ = try input.readList(of: .string) { try $0.readString() }
    }
    expectProtocolError(.invalidData) {
      var input = reader(listHeader(.i32, 1) + be32(1))
      _ = try input.readSet(of: .i64) { try $0.readI64() }
    }
    expectProtocolError(.invalidData) {
      var input = reader(mapHeader(.i32, .i32, 1) + be32(1) + be32(2))
      let _: [String: Int32] = try input.readMap(of: .string, .i32) {
        (try $0.readString(), try $0.readI32())
      }
    }
    expectProtocolError(.invalidData) {
      var input = reader(mapHeader(.i32, .i32, 1) + be32(1) + be32(2))
      let _: [Int32: String] = try input.readMap(of: .i32, .string) {
        (try $0.readI32(), try $0.readString())
      }
    }
  }

  @Test("a set is a header and its elements")
  func setWireBytes() throws {
    let wire = written { $0.writeSet([42] as Set<Int16>, of: .i16) { $0.writeI16($1) } }
    #expect(wire == [0x06, 0, 0, 0, 1, 0x00, 0x2a])
    var input = reader(wire)
    #expect(try input.readSet(of: .i16) { try $0.readI16() } == [42])
  }

  @Test("a set with duplicate elements on the wire collapses them")
  func setDuplicates() throws {
    var input = reader(listHeader(.i8, 3) + [1, 1, 2])
    #expect(try input.readSet(of: .i8) { try $0.readI8() } == [1, 2])
  }

  @Test("a map is key type, value type, i32 count, then alternating keys and values")
  func mapWireBytes() throws {
    let wire = written {
      $0.writeMap(["k": 5] as [String: Int32], of: .string, .i32) {
        $0.writeString($1)
        $0.writeI32($2)
      }
    }
    #expect(wire == [0x0b, 0x08, 0, 0, 0, 1] + wireString("k") + be32(5))
    var input = reader(wire)
    let map: [String: Int32] = try input.readMap(of: .string, .i32) {
      (try $0.readString(), try $0.readI32())
    }
    #expect(map == ["k": 5])
  }

  @Test("a map with a repeated key keeps the last value")
  func mapRepeatedKey() throws {
    var input = reader(mapHeader(.i8, .i8, 2) + [1, 10, 1, 20])
    let map: [Int8: Int8] = try input.readMap(of: .i8, .i8) { (try $0.readI8(), try $0.readI8()) }
    #expect(map == [1: 20])
  }

  @Test("nested lists, hand-encoded")
  func nestedListWireBytes() throws {
    let value: [[Int8]] = [[1, 2], []]
    let wire = written { writer in
      writer.writeList(value, of: .list) { writer, inner in
        writer.writeList(inner, of: .i8) { $0.writeI8($1) }
      }
    }
    #expect(wire == [0x0f, 0, 0, 0, 2, 0x03, 0, 0, 0, 2, 1, 2, 0x03, 0, 0, 0, 0])
    var input = reader(wire)
    let read = try input.readList(of: .list) { reader in
      try reader.readList(of: .i8) { try $0.readI8() }
    }
    #expect(read == value)
  }

  @Test("a map of lists of structs, hand-encoded")
  func mapOfListsOfStructs() throws {
    let value: [Int32: [Address]] = [7: [Address(street: "s", zip: 1)]]
    let wire = written { writer in
      writer.writeMap(value, of: .i32, .list) { writer, key, list in
        writer.writeI32(key)
        writer.writeList(list, of: .struct) { $0.writeStruct($1) }
      }
    }
    let expected: [UInt8] =
      mapHeader(.i32, .list, 1) + be32(7)
      + listHeader(.struct, 1)
      + fieldHeader(.string, 1) + wireString("s") + fieldHeader(.i32, 2) + be32(1)
      + fieldHeader(.list, 3) + listHeader(.string, 0) + [0x00]
    #expect(wire == expected)
    var input = reader(wire)
    let read: [Int32: [Address]] = try input.readMap(of: .i32, .list) { reader in
      (try reader.readI32(), try reader.readList(of: .struct) { try $0.readStruct(Address.self) })
    }
    #expect(read == value)
  }

  @Test("a set of sets and a list of maps round-trip")
  func setOfSetsAndListOfMaps() throws {
    let sets: Set<Set<String>> = [["a", "b"], [], ["c"]]
    let maps: [[String: Double]] = [["x": 1.5], [:], ["y": -2, "z": .infinity]]
    let wire = written { writer in
      writer.writeSet(sets, of: .set) { writer, inner in
        writer.writeSet(inner, of: .string) { $0.writeString($1) }
      }
      writer.writeList(maps, of: .map) { writer, map in
        writer.writeMap(map, of: .string, .double) {
          $0.writeString($1)
          $0.writeDouble($2)
        }
      }
    }
    var input = reader(wire)
    let readSets = try input.readSet(of: .set) { reader in
      try reader.readSet(of: .string) { try $0.readString() }
    }
    let readMaps = try input.readList(of: .map) { reader -> [String: Double] in
      try reader.readMap(of: .string, .double) { (try $0.readString(), try $0.readDouble()) }
    }
    #expect(readSets == sets)
    #expect(readMaps == maps)
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("containers of every element type round-trip")
  func everyElementType() throws {
    let uuid = try #require(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
    let wire = written { writer in
      writer.writeList([true, false], of: .bool) { $0.writeBool($1) }
      writer.writeList([Int8.min, 0], of: .i8) { $0.writeI8($1) }
      writer.writeList([Int16.max], of: .i16) { $0.writeI16($1) }
      writer.writeList([Int32.min], of: .i32) { $0.writeI32($1) }
      writer.writeList([Int64.max], of: .i64) { $0.writeI64($1) }
      writer.writeList([-0.0, 1e300], of: .double) { $0.writeDouble($1) }
      writer.writeList(["", "ß"], of: .string) { $0.writeString($1) }
      writer.writeList([[0xde, 0xad]], of: .string) { $0.writeBinary($1) }
      writer.writeList([uuid], of: .uuid) { $0.writeUUID($1) }
      writer.writeList([Color.red, Color(rawValue: 77)], of: .i32) { $0.writeEnum($1) }
    }
    var input = reader(wire)
    #expect(try input.readList(of: .bool) { try $0.readBool() } == [true, false])
    #expect(try input.readList(of: .i8) { try $0.readI8() } == [Int8.min, 0])
    #expect(try input.readList(of: .i16) { try $0.readI16() } == [Int16.max])
    #expect(try input.readList(of: .i32) { try $0.readI32() } == [Int32.min])
    #expect(try input.readList(of: .i64) { try $0.readI64() } == [Int64.max])
    let doubles = try input.readList(of: .double) { try $0.readDouble() }
    #expect(doubles.map(\.bitPattern) == [(-0.0).bitPattern, (1e300).bitPattern])
    #expect(try input.readList(of: .string) { try $0.readString() } == ["", "ß"])
    #expect(try input.readList(of: .string) { try $0.readBinary() } == [[0xde, 0xad]])
    #expect(try input.readList(of: .uuid) { try $0.readUUID() } == [uuid])
    #expect(
      try input.readList(of: .i32) { try $0.readEnum(Color.self) } == [.red, Color(rawValue: 77)]
    )
    #expect(input.buffer.readableBytes == 0)
  }

  @Test("a struct with a field of every type round-trips")
  func everyFieldRoundTrips() throws {
    let person = PersonV2.sample
    let decoded = try PersonV2(decoding: person.encoded())
    #expect(decoded == person)
    #expect(decoded.color.rawValue == 42)
    #expect(decoded.doubles[1].sign == .minus)
  }

  @Test("deterministic mode writes set elements in sorted order")
  func deterministicSetIsSorted() {
    let values: Set<Int32> = Set((0..<200).map { Int32($0 * 7919 % 1000) - 500 })
    let wire = written(deterministic: true) { $0.writeSet(values, of: .i32) { $0.writeI32($1) } }
    let expected = listHeader(.i32, Int32(values.count)) + values.sorted().flatMap { be32($0) }
    #expect(wire == expected)
  }

  @Test("deterministic mode writes map entries in key order")
  func deterministicMapIsSorted() {
    let map = Dictionary(uniqueKeysWithValues: (0..<100).map { ("key\($0)", Int64($0)) })
    let wire = written(deterministic: true) {
      $0.writeMap(map, of: .string, .i64) {
        $0.writeString($1)
        $0.writeI64($2)
      }
    }
    let entries = map.keys.sorted().flatMap { wireString($0) + be64(map[$0]!) }
    #expect(wire == mapHeader(.string, .i64, 100) + entries)
  }

  @Test("deterministic mode sorts enums by wire value")
  func deterministicEnumSet() {
    let colors: Set<Color> = [.blue, Color(rawValue: -4), .red, Color(rawValue: 1000), .green]
    let wire = written(deterministic: true) { $0.writeSet(colors, of: .i32) { $0.writeEnum($1) } }
    #expect(wire == listHeader(.i32, 5) + ([-4, 1, 2, 3, 1000] as [Int32]).flatMap { be32($0) })
  }

  @Test("equal values encode to equal bytes in deterministic mode")
  func deterministicEncodingIsStable() {
    var first = PersonV2.sample
    var second = PersonV2.sample
    // Build the same contents in different insertion orders and capacities.
    first.lucky = Set((0..<500).map(Int64.init))
    second.lucky = Set<Int64>(minimumCapacity: 4096)
    for value in (0..<500).reversed() { second.lucky.insert(Int64(value)) }
    first.labels = Set((0..<300).map { "label\($0)" })
    second.labels = Set((0..<300).reversed().map { "label\($0)" })
    #expect(first == second)
    #expect(first.encoded(deterministic: true) == second.encoded(deterministic: true))
  }

  @Test("default mode still writes every element, in any order")
  func nonDeterministicRoundTrips() throws {
    let values: Set<String> = Set((0..<50).map { "v\($0)" })
    let wire = written { $0.writeSet(values, of: .string) { $0.writeString($1) } }
    var input = reader(wire)
    #expect(try input.readSet(of: .string) { try $0.readString() } == values)
  }

  @Test("sets and maps of non-comparable elements are written in their own order")
  func nonComparableSetAndMap() throws {
    let places: Set<Address> = [Address(street: "a", zip: 1), Address(street: "b", zip: 2)]
    let wire = written(deterministic: true) {
      $0.writeSet(places, of: .struct) { $0.writeStruct($1) }
    }
    var input = reader(wire)
    #expect(try input.readSet(of: .struct) { try $0.readStruct(Address.self) } == places)
  }

  @Test("boxes compare and hash by value")
  func boxesCompareByValue() {
    let first = ThriftBox(Address(street: "a", zip: 1))
    let second = ThriftBox(Address(street: "a", zip: 1))
    #expect(first == second)
    #expect(first.hashValue == second.hashValue)
    #expect(first != ThriftBox(Address(street: "a", zip: 2)))
    #expect(Set([first, second]).count == 1)
  }

  @Test("a self-referential struct round-trips through its box")
  func recursiveStructRoundTrips() throws {
    let tree = Tree.chain(depth: 30)
    let decoded = try Tree(decoding: tree.encoded())
    #expect(decoded == tree)
    #expect(decoded.depth == 30)
  }
}
