// The syntax tree of one Thrift IDL file, as written. Names are not resolved here: a type
// reference is the text `Foo` or `base.Foo`; `IDLProgram` resolves them across files.

/// One parsed `.thrift` file.
public struct ThriftDocument: Sendable {
  /// The path the file was read from.
  public var path: String
  /// `include "x.thrift"` lines, in order.
  public var includes: [Include]
  /// `cpp_include` lines (kept for completeness; they mean nothing to Swift).
  public var cppIncludes: [String]
  /// `namespace <scope> <name>` lines, in order.
  public var namespaces: [Namespace]
  /// Every definition, in source order.
  public var definitions: [Definition]

  /// Creates a document.
  public init(
    path: String,
    includes: [Include] = [],
    cppIncludes: [String] = [],
    namespaces: [Namespace] = [],
    definitions: [Definition] = []
  ) {
    self.path = path
    self.includes = includes
    self.cppIncludes = cppIncludes
    self.namespaces = namespaces
    self.definitions = definitions
  }
}

/// `include "path"`.
public struct Include: Sendable, Hashable {
  /// The path as written, resolved against the including file's folder and the include paths.
  public var path: String
  /// Where the include was written.
  public var location: SourceLocation

  /// Creates an include.
  public init(path: String, location: SourceLocation) {
    self.path = path
    self.location = location
  }
}

/// `namespace <scope> <name>`; scope `*` applies to every language.
public struct Namespace: Sendable, Hashable {
  /// The language scope (`go`, `py`, `swift`, `*`, …).
  public var scope: String
  /// The namespace in that language.
  public var name: String

  /// Creates a namespace line.
  public init(scope: String, name: String) {
    self.scope = scope
    self.name = name
  }
}

/// `(key = "value", flag)` after a type, field, function or definition.
public struct Annotation: Sendable, Hashable {
  /// The annotation's key, possibly dotted (`go.tag`).
  public var key: String
  /// The value; annotations written without `= value` have the value `"1"`, as Apache Thrift does.
  public var value: String

  /// Creates an annotation.
  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }
}

/// A top-level definition.
public enum Definition: Sendable {
  /// `typedef T Name`.
  case typedef(TypedefDefinition)
  /// `enum Name { … }`.
  case `enum`(EnumDefinition)
  /// `const T Name = value`.
  case const(ConstDefinition)
  /// `struct`, `union` or `exception`.
  case `struct`(StructDefinition)
  /// `service Name [extends Base] { … }`.
  case service(ServiceDefinition)

  /// The definition's declared name.
  public var name: String {
    switch self {
    case .typedef(let d): d.name
    case .enum(let d): d.name
    case .const(let d): d.name
    case .struct(let d): d.name
    case .service(let d): d.name
    }
  }

  /// Where the definition's name was written.
  public var location: SourceLocation {
    switch self {
    case .typedef(let d): d.location
    case .enum(let d): d.location
    case .const(let d): d.location
    case .struct(let d): d.location
    case .service(let d): d.location
    }
  }
}

/// A type as written in IDL.
public indirect enum TypeReference: Sendable, Hashable, CustomStringConvertible {
  case bool
  /// `byte` and `i8` are the same wire type; both spellings are accepted.
  case i8
  case i16
  case i32
  case i64
  case double
  case string
  case binary
  case uuid
  case list(TypeReference)
  case set(TypeReference)
  case map(key: TypeReference, value: TypeReference)
  /// A user type: `Name` in this file or `file.Name` from an include.
  case named(String, SourceLocation)

  /// The type as IDL would spell it.
  public var description: String {
    switch self {
    case .bool: "bool"
    case .i8: "i8"
    case .i16: "i16"
    case .i32: "i32"
    case .i64: "i64"
    case .double: "double"
    case .string: "string"
    case .binary: "binary"
    case .uuid: "uuid"
    case .list(let e): "list<\(e)>"
    case .set(let e): "set<\(e)>"
    case .map(let k, let v): "map<\(k),\(v)>"
    case .named(let n, _): n
    }
  }
}

/// A constant value as written: in a `const`, a field default or an enum value.
public indirect enum ConstValue: Sendable, Hashable {
  case int(Int64)
  case double(Double)
  case string(String)
  case bool(Bool)
  /// A reference to another constant or an enum value: `MAX`, `Color.RED`, `base.LIMIT`.
  case identifier(String, SourceLocation)
  case list([ConstValue])
  /// Entries in source order.
  case map([ConstMapEntry])
}

/// One `key: value` pair of a constant map.
public struct ConstMapEntry: Sendable, Hashable {
  /// The key.
  public var key: ConstValue
  /// The value.
  public var value: ConstValue

  /// Creates an entry.
  public init(key: ConstValue, value: ConstValue) {
    self.key = key
    self.value = value
  }
}

/// `typedef T Name`.
public struct TypedefDefinition: Sendable {
  public var name: String
  public var type: TypeReference
  public var annotations: [Annotation]
  /// The `/** … */` comment before the definition, without its markers.
  public var doc: String?
  public var location: SourceLocation

  /// Creates a typedef.
  public init(
    name: String,
    type: TypeReference,
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.type = type
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// `enum Name { A = 1, B, … }`.
public struct EnumDefinition: Sendable {
  public var name: String
  /// Cases in source order, each with its value already computed (implicit values count on
  /// from the previous one, starting at 0).
  public var cases: [EnumCase]
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates an enum.
  public init(
    name: String,
    cases: [EnumCase],
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.cases = cases
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// One case of an enum.
public struct EnumCase: Sendable, Hashable {
  public var name: String
  /// The wire value (explicit, or one more than the previous case).
  public var value: Int32
  /// Whether the value was written in the IDL.
  public var isExplicit: Bool
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates an enum case.
  public init(
    name: String,
    value: Int32,
    isExplicit: Bool,
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.value = value
    self.isExplicit = isExplicit
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// `const T Name = value`.
public struct ConstDefinition: Sendable {
  public var name: String
  public var type: TypeReference
  public var value: ConstValue
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates a constant.
  public init(
    name: String,
    type: TypeReference,
    value: ConstValue,
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.type = type
    self.value = value
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// Which of the three struct-like definitions this is.
public enum StructKind: String, Sendable, Hashable {
  case `struct`
  case union
  case exception
}

/// `struct`, `union` or `exception`.
public struct StructDefinition: Sendable {
  public var kind: StructKind
  public var name: String
  public var fields: [Field]
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates a struct-like definition.
  public init(
    kind: StructKind,
    name: String,
    fields: [Field],
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.kind = kind
    self.name = name
    self.fields = fields
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// How a field's presence is treated.
public enum Requiredness: String, Sendable, Hashable {
  /// `required`: always written; a missing one is a decoding error.
  case required
  /// `optional`: written only when set.
  case optional
  /// Neither keyword: always written; a missing one keeps its default.
  case `default`
}

/// A field of a struct, union or exception, a function parameter, or a `throws` entry.
public struct Field: Sendable {
  /// The field id. Fields written without one get implicit negative ids (-1, -2, …) in
  /// order, as Apache Thrift assigns them.
  public var id: Int16
  /// Whether the id was written in the IDL.
  public var hasExplicitID: Bool
  public var name: String
  public var type: TypeReference
  public var requiredness: Requiredness
  public var defaultValue: ConstValue?
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates a field.
  public init(
    id: Int16,
    hasExplicitID: Bool = true,
    name: String,
    type: TypeReference,
    requiredness: Requiredness = .default,
    defaultValue: ConstValue? = nil,
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.id = id
    self.hasExplicitID = hasExplicitID
    self.name = name
    self.type = type
    self.requiredness = requiredness
    self.defaultValue = defaultValue
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// `service Name [extends Base] { … }`.
public struct ServiceDefinition: Sendable {
  public var name: String
  /// The service this one extends, as written (`Base` or `file.Base`).
  public var extends: String?
  public var functions: [Function]
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates a service.
  public init(
    name: String,
    extends: String? = nil,
    functions: [Function],
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.extends = extends
    self.functions = functions
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}

/// One function of a service.
public struct Function: Sendable {
  public var name: String
  /// The return type; `nil` for `void`.
  public var returnType: TypeReference?
  public var isOneway: Bool
  public var parameters: [Field]
  /// Declared exceptions (`throws (1: E e)`).
  public var exceptions: [Field]
  public var annotations: [Annotation]
  public var doc: String?
  public var location: SourceLocation

  /// Creates a function.
  public init(
    name: String,
    returnType: TypeReference?,
    isOneway: Bool = false,
    parameters: [Field],
    exceptions: [Field] = [],
    annotations: [Annotation] = [],
    doc: String? = nil,
    location: SourceLocation
  ) {
    self.name = name
    self.returnType = returnType
    self.isOneway = isOneway
    self.parameters = parameters
    self.exceptions = exceptions
    self.annotations = annotations
    self.doc = doc
    self.location = location
  }
}
