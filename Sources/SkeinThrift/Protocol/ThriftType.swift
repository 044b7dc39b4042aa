/// The type ids of the Thrift binary protocol, as they appear on the wire before every field,
/// container element type and map key/value type.
public enum ThriftType: UInt8, Sendable, Hashable, CustomStringConvertible {
  /// Ends a struct's field list.
  case stop = 0
  /// Only in `TApplicationException`-era readers; never written by Skein.
  case void = 1
  case bool = 2
  /// Also spelled `byte` in IDL.
  case i8 = 3
  case double = 4
  case i16 = 6
  case i32 = 8
  case i64 = 10
  /// Strings and binary share this wire type.
  case string = 11
  case `struct` = 12
  case map = 13
  case set = 14
  case list = 15
  case uuid = 16

  /// The fewest bytes one value of this type can take on the wire. A declared container size is
  /// checked against this times the count before anything is allocated.
  @inlinable
  public var minimumWireSize: Int {
    switch self {
    case .stop, .void: 0
    case .bool, .i8: 1
    case .i16: 2
    case .i32: 4
    case .double, .i64: 8
    case .string: 4
    case .struct: 1
    case .map: 6
    case .set, .list: 5
    case .uuid: 16
    }
  }

  /// The name Thrift IDL uses for the type.
  public var description: String {
    switch self {
    case .stop: "stop"
    case .void: "void"
    case .bool: "bool"
    case .i8: "i8"
    case .double: "double"
    case .i16: "i16"
    case .i32: "i32"
    case .i64: "i64"
    case .string: "string"
    case .struct: "struct"
    case .map: "map"
    case .set: "set"
    case .list: "list"
    case .uuid: "uuid"
    }
  }
}

/// The header of one field inside a struct: its wire type and id.
public struct ThriftFieldHeader: Sendable, Hashable {
  /// The wire type of the value that follows.
  public var type: ThriftType
  /// The field id from the IDL.
  public var id: Int16

  /// Creates a field header.
  @inlinable
  public init(type: ThriftType, id: Int16) {
    self.type = type
    self.id = id
  }
}
