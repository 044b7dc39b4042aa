/// How a resolved Thrift type looks in generated Swift: its type name, wire type, and the
/// expressions that read and write it.
struct SwiftTypes {
  /// Resolves struct-like names to their kind (a union or an exception reads the same on the
  /// wire as a struct, but unions are Swift enums).
  let program: IDLProgram

  /// The Swift spelling of a type.
  func swiftType(_ type: ResolvedType) -> String {
    switch type {
    case .bool: "Bool"
    case .i8: "Int8"
    case .i16: "Int16"
    case .i32: "Int32"
    case .i64: "Int64"
    case .double: "Double"
    case .string: "String"
    case .binary: "[UInt8]"
    case .uuid: "UUID"
    case .list(let element): "[\(swiftType(element))]"
    case .set(let element): "Set<\(swiftType(element))>"
    case .map(let key, let value): "[\(swiftType(key)): \(swiftType(value))]"
    case .enumeration(let name), .structure(let name), .typedef(let name, _):
      SwiftNaming.typeName(name.name)
    }
  }

  /// The `ThriftType` case (without the dot) a value of this type is written as.
  func wireType(_ type: ResolvedType) -> String {
    switch type.underlying {
    case .bool: "bool"
    case .i8: "i8"
    case .i16: "i16"
    case .i32, .enumeration: "i32"
    case .i64: "i64"
    case .double: "double"
    case .string, .binary: "string"
    case .uuid: "uuid"
    case .list: "list"
    case .set: "set"
    case .map: "map"
    case .structure: "struct"
    case .typedef(_, let target): wireType(target)
    }
  }

  /// Whether a default-requiredness field of this type is stored as an optional: structs,
  /// unions, exceptions and UUIDs have no natural zero value.
  func hasNoZeroValue(_ type: ResolvedType) -> Bool {
    switch type.underlying {
    case .structure, .uuid: true
    default: false
    }
  }

  /// The value a default-requiredness field starts with when the IDL gives none.
  func zeroValue(_ type: ResolvedType) -> String? {
    switch type.underlying {
    case .bool: "false"
    case .i8, .i16, .i32, .i64: "0"
    case .double: "0"
    case .string: "\"\""
    case .binary, .list, .set: "[]"
    case .map: "[:]"
    case .enumeration: "\(swiftType(type))(rawValue: 0)"
    case .uuid, .structure, .typedef: nil
    }
  }

  /// An expression that reads one value from the inout reader named `reader`.
  func readExpression(_ type: ResolvedType, reader: String, depth: Int = 0) -> String {
    let inner = "r\(depth + 1)"
    switch type.underlying {
    case .bool: return "try \(reader).readBool()"
    case .i8: return "try \(reader).readI8()"
    case .i16: return "try \(reader).readI16()"
    case .i32: return "try \(reader).readI32()"
    case .i64: return "try \(reader).readI64()"
    case .double: return "try \(reader).readDouble()"
    case .string: return "try \(reader).readString()"
    case .binary: return "try \(reader).readBinary()"
    case .uuid: return "try \(reader).readUUID()"
    case .enumeration: return "try \(reader).readEnum(\(swiftType(type)).self)"
    case .structure: return "try \(swiftType(type))(from: &\(reader))"
    case .list(let element):
      let read = readExpression(element, reader: inner, depth: depth + 1)
      return "try \(reader).readList(of: .\(wireType(element))) { \(inner) in \(read) }"
    case .set(let element):
      let read = readExpression(element, reader: inner, depth: depth + 1)
      return "try \(reader).readSet(of: .\(wireType(element))) { \(inner) in \(read) }"
    case .map(let key, let value):
      let readKey = readExpression(key, reader: inner, depth: depth + 1)
      let readValue = readExpression(value, reader: inner, depth: depth + 1)
      return
        "try \(reader).readMap(of: .\(wireType(key)), .\(wireType(value))) { \(inner) in (\(readKey), \(readValue)) }"
    case .typedef(_, let target): return readExpression(target, reader: reader, depth: depth)
    }
  }

  /// A statement that writes `value` with the inout writer named `writer`.
  func writeStatement(_ type: ResolvedType, value: String, writer: String, depth: Int = 0)
    -> String
  {
    let inner = "w\(depth + 1)"
    switch type.underlying {
    case .bool: return "\(writer).writeBool(\(value))"
    case .i8: return "\(writer).writeI8(\(value))"
    case .i16: return "\(writer).writeI16(\(value))"
    case .i32: return "\(writer).writeI32(\(value))"
    case .i64: return "\(writer).writeI64(\(value))"
    case .double: return "\(writer).writeDouble(\(value))"
    case .string: return "\(writer).writeString(\(value))"
    case .binary: return "\(writer).writeBinary(\(value))"
    case .uuid: return "\(writer).writeUUID(\(value))"
    case .enumeration: return "\(writer).writeEnum(\(value))"
    case .structure: return "\(value).write(to: &\(writer))"
    case .list(let element):
      let e = "e\(depth + 1)"
      let write = writeStatement(element, value: e, writer: inner, depth: depth + 1)
      return
        "\(writer).writeList(\(value), of: .\(wireType(element))) { \(inner), \(e) in \(write) }"
    case .set(let element):
      let e = "e\(depth + 1)"
      let write = writeStatement(element, value: e, writer: inner, depth: depth + 1)
      return
        "\(writer).writeSet(\(value), of: .\(wireType(element))) { \(inner), \(e) in \(write) }"
    case .map(let key, let valueType):
      let k = "k\(depth + 1)"
      let v = "v\(depth + 1)"
      let writeKey = writeStatement(key, value: k, writer: inner, depth: depth + 1)
      let writeValue = writeStatement(valueType, value: v, writer: inner, depth: depth + 1)
      return
        "\(writer).writeMap(\(value), of: .\(wireType(key)), .\(wireType(valueType))) { \(inner), \(k), \(v) in \(writeKey); \(writeValue) }"
    case .typedef(_, let target):
      return writeStatement(target, value: value, writer: writer, depth: depth)
    }
  }

  /// Whether the type or anything inside it is a UUID (the file then imports Foundation).
  func mentionsUUID(_ type: ResolvedType) -> Bool {
    switch type {
    case .uuid: true
    case .list(let e), .set(let e): mentionsUUID(e)
    case .map(let k, let v): mentionsUUID(k) || mentionsUUID(v)
    case .typedef(_, let target): mentionsUUID(target)
    default: false
    }
  }
}
