import Foundation
import SkeinThrift

// Hand-written conformances shaped like the generated ones: a struct reads fields in a loop,
// matching on (id, wire type), and skips everything else.

/// An enum as generated code declares it: a wrapper over the wire value, so unknown values survive.
struct Color: ThriftEnum, CustomStringConvertible {
  var rawValue: Int32

  init(rawValue: Int32) { self.rawValue = rawValue }

  static let red = Color(rawValue: 1)
  static let green = Color(rawValue: 2)
  static let blue = Color(rawValue: 3)

  var description: String { "Color(\(rawValue))" }
}

/// `struct Address { 1: string street, 2: i32 zip, 3: list<string> tags }`.
struct Address: ThriftStruct, Hashable {
  var street: String
  var zip: Int32
  var tags: [String]

  init(street: String, zip: Int32, tags: [String] = []) {
    self.street = street
    self.zip = zip
    self.tags = tags
  }

  init(from reader: inout ThriftBinaryReader) throws {
    var street = ""
    var zip: Int32 = 0
    var tags: [String] = []
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): street = try reader.readString()
      case (2, .i32): zip = try reader.readI32()
      case (3, .list): tags = try reader.readList(of: .string) { try $0.readString() }
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self.init(street: street, zip: zip, tags: tags)
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(street)
    writer.writeFieldBegin(.i32, id: 2)
    writer.writeI32(zip)
    writer.writeFieldBegin(.list, id: 3)
    writer.writeList(tags, of: .string) { $0.writeString($1) }
    writer.writeFieldStop()
  }
}

/// The first version of a struct: `{ 1: string name, 2: i32 age }`.
struct PersonV1: ThriftStruct, Hashable {
  var name: String
  var age: Int32

  init(name: String, age: Int32) {
    self.name = name
    self.age = age
  }

  init(from reader: inout ThriftBinaryReader) throws {
    var name = ""
    var age: Int32 = 0
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): name = try reader.readString()
      case (2, .i32): age = try reader.readI32()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self.init(name: name, age: age)
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(name)
    writer.writeFieldBegin(.i32, id: 2)
    writer.writeI32(age)
    writer.writeFieldStop()
  }
}

/// A later version of ``PersonV1`` that added a field of every wire type, nested containers of
/// structs among them. It writes the new fields between `name` and `age`, so an old reader must
/// skip all of them to reach `age`.
struct PersonV2: ThriftStruct, Hashable {
  var name = ""
  var age: Int32 = 0
  var flag = false
  var tiny: Int8 = 0
  var ratio: Double = 0
  var short: Int16 = 0
  var big: Int64 = 0
  var blob: [UInt8] = []
  var id = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
  var home = Address(street: "", zip: 0)
  var previous: [Address] = []
  var lucky: Set<Int64> = []
  var byName: [String: Address] = [:]
  var groups: [Int32: [String]] = [:]
  var matrix: [[Int32]] = []
  var color = Color.red
  var labels: Set<String> = []
  var bits: [Bool] = []
  var ids: [UUID] = []
  var codes: [Address: Int16] = [:]
  var places: Set<Address> = []
  var nested: [String: [String: [Int8]]] = [:]
  var doubles: [Double] = []

  init() {}

  /// A value with every field set to something other than its default.
  static let sample: PersonV2 = {
    var person = PersonV2()
    person.name = "Ada"
    person.age = 36
    person.flag = true
    person.tiny = -7
    person.ratio = 1.5
    person.short = -300
    person.big = 1 << 40
    person.blob = [0, 0xff, 0x80, 0x0c]
    person.id = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!
    person.home = Address(street: "Main St", zip: 12345, tags: ["home", "primary"])
    person.previous = [
      Address(street: "Old Rd", zip: 1),
      Address(street: "Older Ln", zip: 2, tags: ["x"]),
    ]
    person.lucky = [7, -1, 1 << 50]
    person.byName = [
      "work": Address(street: "Work Ave", zip: 3),
      "cabin": Address(street: "Lake", zip: 4, tags: ["summer"]),
    ]
    person.groups = [1: ["a", "b"], 2: [], -3: ["ü"]]
    person.matrix = [[1, 2, 3], [], [4]]
    person.color = Color(rawValue: 42)
    person.labels = ["x", "y", "zé"]
    person.bits = [true, false, true]
    person.ids = [person.id, UUID(uuidString: "FFEEDDCC-BBAA-9988-7766-554433221100")!]
    person.codes = [Address(street: "k", zip: 9): 99]
    person.places = [Address(street: "p", zip: 5), Address(street: "q", zip: 6)]
    person.nested = ["outer": ["inner": [1, 2], "empty": []], "none": [:]]
    person.doubles = [0.5, -0.0, .infinity]
    return person
  }()

  init(from reader: inout ThriftBinaryReader) throws {
    var value = PersonV2()
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): value.name = try reader.readString()
      case (2, .i32): value.age = try reader.readI32()
      case (3, .bool): value.flag = try reader.readBool()
      case (4, .i8): value.tiny = try reader.readI8()
      case (5, .double): value.ratio = try reader.readDouble()
      case (6, .i16): value.short = try reader.readI16()
      case (7, .i64): value.big = try reader.readI64()
      case (8, .string): value.blob = try reader.readBinary()
      case (9, .uuid): value.id = try reader.readUUID()
      case (10, .struct): value.home = try reader.readStruct()
      case (11, .list): value.previous = try reader.readList(of: .struct) { try $0.readStruct() }
      case (12, .set): value.lucky = try reader.readSet(of: .i64) { try $0.readI64() }
      case (13, .map):
        value.byName = try reader.readMap(of: .string, .struct) {
          (try $0.readString(), try $0.readStruct(Address.self))
        }
      case (14, .map):
        value.groups = try reader.readMap(of: .i32, .list) { reader in
          (try reader.readI32(), try reader.readList(of: .string) { try $0.readString() })
        }
      case (15, .list):
        value.matrix = try reader.readList(of: .list) { reader in
          try reader.readList(of: .i32) { try $0.readI32() }
        }
      case (16, .i32): value.color = try reader.readEnum()
      case (17, .set): value.labels = try reader.readSet(of: .string) { try $0.readString() }
      case (18, .list): value.bits = try reader.readList(of: .bool) { try $0.readBool() }
      case (19, .list): value.ids = try reader.readList(of: .uuid) { try $0.readUUID() }
      case (20, .map):
        value.codes = try reader.readMap(of: .struct, .i16) {
          (try $0.readStruct(Address.self), try $0.readI16())
        }
      case (21, .set): value.places = try reader.readSet(of: .struct) { try $0.readStruct() }
      case (22, .map):
        value.nested = try reader.readMap(of: .string, .map) { reader in
          let key = try reader.readString()
          let inner: [String: [Int8]] = try reader.readMap(of: .string, .list) { reader in
            (try reader.readString(), try reader.readList(of: .i8) { try $0.readI8() })
          }
          return (key, inner)
        }
      case (23, .list): value.doubles = try reader.readList(of: .double) { try $0.readDouble() }
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self = value
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(name)
    writer.writeFieldBegin(.bool, id: 3)
    writer.writeBool(flag)
    writer.writeFieldBegin(.i8, id: 4)
    writer.writeI8(tiny)
    writer.writeFieldBegin(.double, id: 5)
    writer.writeDouble(ratio)
    writer.writeFieldBegin(.i16, id: 6)
    writer.writeI16(short)
    writer.writeFieldBegin(.i64, id: 7)
    writer.writeI64(big)
    writer.writeFieldBegin(.string, id: 8)
    writer.writeBinary(blob)
    writer.writeFieldBegin(.uuid, id: 9)
    writer.writeUUID(id)
    writer.writeFieldBegin(.struct, id: 10)
    writer.writeStruct(home)
    writer.writeFieldBegin(.list, id: 11)
    writer.writeList(previous, of: .struct) { $0.writeStruct($1) }
    writer.writeFieldBegin(.set, id: 12)
    writer.writeSet(lucky, of: .i64) { $0.writeI64($1) }
    writer.writeFieldBegin(.map, id: 13)
    writer.writeMap(byName, of: .string, .struct) {
      $0.writeString($1)
      $0.writeStruct($2)
    }
    writer.writeFieldBegin(.map, id: 14)
    writer.writeMap(groups, of: .i32, .list) { writer, key, value in
      writer.writeI32(key)
      writer.writeList(value, of: .string) { $0.writeString($1) }
    }
    writer.writeFieldBegin(.list, id: 15)
    writer.writeList(matrix, of: .list) { writer, row in
      writer.writeList(row, of: .i32) { $0.writeI32($1) }
    }
    writer.writeFieldBegin(.i32, id: 16)
    writer.writeEnum(color)
    writer.writeFieldBegin(.set, id: 17)
    writer.writeSet(labels, of: .string) { $0.writeString($1) }
    writer.writeFieldBegin(.list, id: 18)
    writer.writeList(bits, of: .bool) { $0.writeBool($1) }
    writer.writeFieldBegin(.list, id: 19)
    writer.writeList(ids, of: .uuid) { $0.writeUUID($1) }
    writer.writeFieldBegin(.map, id: 20)
    writer.writeMap(codes, of: .struct, .i16) {
      $0.writeStruct($1)
      $0.writeI16($2)
    }
    writer.writeFieldBegin(.set, id: 21)
    writer.writeSet(places, of: .struct) { $0.writeStruct($1) }
    writer.writeFieldBegin(.map, id: 22)
    writer.writeMap(nested, of: .string, .map) { writer, key, inner in
      writer.writeString(key)
      writer.writeMap(inner, of: .string, .list) { writer, key, list in
        writer.writeString(key)
        writer.writeList(list, of: .i8) { $0.writeI8($1) }
      }
    }
    writer.writeFieldBegin(.list, id: 23)
    writer.writeList(doubles, of: .double) { $0.writeDouble($1) }
    // The field an old reader knows comes last, after everything it must skip.
    writer.writeFieldBegin(.i32, id: 2)
    writer.writeI32(age)
    writer.writeFieldStop()
  }
}

/// A self-referential struct, `struct Tree { 1: i32 value, 2: optional Tree child }`, boxed the
/// way generated code boxes fields on a cycle.
struct Tree: ThriftStruct, Hashable {
  var value: Int32
  var child: ThriftBox<Tree>?

  init(value: Int32, child: Tree? = nil) {
    self.value = value
    self.child = child.map(ThriftBox.init)
  }

  /// A chain of `depth` nested trees (the outermost included).
  static func chain(depth: Int) -> Tree {
    var tree = Tree(value: Int32(depth))
    for level in stride(from: depth - 1, through: 1, by: -1) {
      tree = Tree(value: Int32(level), child: tree)
    }
    return tree
  }

  /// How many trees are nested here, this one included.
  var depth: Int {
    var depth = 1
    var node = self
    while let next = node.child?.value {
      depth += 1
      node = next
    }
    return depth
  }

  init(from reader: inout ThriftBinaryReader) throws {
    var value: Int32 = 0
    var child: Tree?
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .i32): value = try reader.readI32()
      case (2, .struct): child = try reader.readStruct()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self.init(value: value, child: child)
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.i32, id: 1)
    writer.writeI32(value)
    if let child {
      writer.writeFieldBegin(.struct, id: 2)
      writer.writeStruct(child.value)
    }
    writer.writeFieldStop()
  }
}
