import NIOCore

extension ThriftBinaryReader {
  /// Skips one value of the given type without materializing it, so a reader can step over
  /// fields it does not know (a newer peer's additions) or fields of an unexpected type.
  ///
  /// Skipping obeys the same limits as reading: nesting depth, container counts and string
  /// lengths are checked against the bytes that remain, so a crafted value cannot make it loop
  /// or recurse without bound.
  public mutating func skip(_ type: ThriftType) throws {
    switch type {
    case .bool, .i8: try skipBytes(1, "bool")
    case .i16: try skipBytes(2, "i16")
    case .i32: try skipBytes(4, "i32")
    case .i64, .double: try skipBytes(8, "i64")
    case .uuid: try skipBytes(16, "uuid")
    case .string:
      let length = try readLength("string")
      advance(by: length)
    case .struct:
      try enter()
      while let field = try readFieldBegin() { try skip(field.type) }
      depth -= 1
    case .list:
      let (elementType, count) = try readListBegin()
      try skipElements(count, elementType)
    case .set:
      let (elementType, count) = try readSetBegin()
      try skipElements(count, elementType)
    case .map:
      let (keyType, valueType, count) = try readMapBegin()
      try enter()
      for _ in 0..<count {
        try skip(keyType)
        try skip(valueType)
      }
      depth -= 1
    case .stop, .void:
      throw ThriftProtocolError.unknownType(type.rawValue)
    }
  }

  private mutating func skipElements(_ count: Int, _ elementType: ThriftType) throws {
    try enter()
    defer { depth -= 1 }
    let fixed = elementType.fixedWireSize
    if fixed > 0 {
      // The count was checked against the bytes left, so this cannot overrun.
      advance(by: count * fixed)
      return
    }
    for _ in 0..<count { try skip(elementType) }
  }

  private mutating func skipBytes(_ count: Int, _ what: StaticString) throws {
    guard readableBytes >= count else {
      throw ThriftProtocolError.truncated("\(what)", needed: count, available: readableBytes)
    }
    advance(by: count)
  }
}

extension ThriftType {
  /// The wire size of a fixed-size type, or 0 for variable-size types.
  var fixedWireSize: Int {
    switch self {
    case .bool, .i8: 1
    case .i16: 2
    case .i32: 4
    case .i64, .double: 8
    case .uuid: 16
    default: 0
    }
  }
}
