/// A definition's name qualified by the module (the IDL file's base name) that declares it.
public struct QualifiedName: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The file's base name without `.thrift`: `base` for `idl/base.thrift`.
  public var module: String
  /// The definition's name inside its file.
  public var name: String

  /// Creates a qualified name.
  public init(module: String, name: String) {
    self.module = module
    self.name = name
  }

  /// `module.name`, as another file refers to it.
  public var description: String { "\(module).\(name)" }

  /// Orders by module, then name, so generated output does not depend on hash order.
  public static func < (lhs: Self, rhs: Self) -> Bool {
    (lhs.module, lhs.name) < (rhs.module, rhs.name)
  }
}

/// A type with every name looked up: what the generator needs to pick a Swift type and a wire
/// type.
public indirect enum ResolvedType: Sendable, Hashable {
  case bool
  case i8
  case i16
  case i32
  case i64
  case double
  case string
  case binary
  case uuid
  case list(ResolvedType)
  case set(ResolvedType)
  case map(key: ResolvedType, value: ResolvedType)
  /// An `enum` definition.
  case enumeration(QualifiedName)
  /// A `struct`, `union` or `exception` definition.
  case structure(QualifiedName)
  /// A `typedef`, with the type it stands for (already resolved).
  case typedef(QualifiedName, ResolvedType)

  /// The type with typedefs looked through: what goes on the wire.
  public var underlying: ResolvedType {
    if case .typedef(_, let target) = self { return target.underlying }
    return self
  }
}

/// One loaded IDL file with its module name.
public struct ResolvedDocument: Sendable {
  /// The module other files use to refer to this one (`base` in `base.Base`).
  public var module: String
  /// The path the file was read from, normalized.
  public var path: String
  /// The parsed file.
  public var document: ThriftDocument
  /// The modules this file includes, by the prefix it uses for them.
  public var includedModules: Set<String>

  /// Creates a resolved document.
  public init(module: String, path: String, document: ThriftDocument, includedModules: Set<String>)
  {
    self.module = module
    self.path = path
    self.document = document
    self.includedModules = includedModules
  }
}

/// What an identifier in a constant value refers to.
public enum ConstantReference: Sendable {
  /// Another `const`.
  case constant(QualifiedName, ConstDefinition)
  /// A case of an enum, named by the enum's qualified name.
  case enumCase(QualifiedName, EnumCase)
}
