#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A set of IDL files with their includes loaded and every name checked: the input of the
/// generator.
///
/// A file's module is its base name (`base` for `idl/base.thrift`), the prefix other files use
/// for its definitions, as in Apache Thrift. Two different files with the same base name cannot
/// be loaded together, since `base.Base` would be ambiguous.
public struct IDLProgram: Sendable {
  /// Reads a file's text, or returns `nil` when there is no such file.
  public typealias FileReader = @Sendable (_ path: String) -> String?

  /// Every loaded document, each after the files it includes.
  public private(set) var documents: [ResolvedDocument] = []
  /// The documents of the files named to ``load(files:includePaths:reader:)``, in that order.
  public private(set) var roots: [ResolvedDocument] = []
  private var byModule: [String: Int] = [:]
  private var definitions: [QualifiedName: Definition] = [:]

  private init() {}

  /// Reads `files` and, transitively, everything they include, then checks every name.
  ///
  /// - Parameters:
  ///   - files: The IDL files to load.
  ///   - includePaths: Folders searched for an include after the including file's own folder.
  ///   - reader: How to read a file; the file system by default.
  /// - Throws: ``IDLError`` for a missing file, a syntax error, an include cycle, an unknown or
  ///   misused name, or a definition the wire cannot carry.
  public static func load(
    files: [String],
    includePaths: [String] = [],
    reader: @escaping FileReader = IDLProgram.readFromDisk
  ) throws -> IDLProgram {
    var loader = Loader(includePaths: includePaths, reader: reader)
    var program = IDLProgram()
    var rootPaths: [String] = []
    for file in files {
      let path = Loader.normalize(file)
      guard let text = reader(path) else {
        throw IDLError(
          "cannot read '\(file)': no such file",
          at: SourceLocation(file: file, line: 1, column: 1)
        )
      }
      try loader.load(path: path, text: text, includedFrom: [], into: &program)
      rootPaths.append(path)
    }
    program.roots = rootPaths.compactMap { path in program.documents.first { $0.path == path } }
    try program.validate()
    return program
  }

  /// Reads a UTF-8 file from disk.
  public static let readFromDisk: FileReader = { path in
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
  }

  // MARK: Lookups

  /// The document of a module, if loaded.
  public func document(module: String) -> ResolvedDocument? {
    byModule[module].map { documents[$0] }
  }

  /// The struct, union or exception with this name.
  public func structDefinition(_ name: QualifiedName) -> StructDefinition? {
    if case .struct(let definition) = definitions[name] { return definition }
    return nil
  }

  /// The enum with this name.
  public func enumDefinition(_ name: QualifiedName) -> EnumDefinition? {
    if case .enum(let definition) = definitions[name] { return definition }
    return nil
  }

  /// Splits `Name` or `module.Name` into the definition it names, as seen from `document`.
  private func lookup(_ text: String, in document: ResolvedDocument) -> (QualifiedName, Definition)?
  {
    let name: QualifiedName
    if let dot = text.lastIndex(of: ".") {
      let module = String(text[..<dot])
      guard document.includedModules.contains(module) || module == document.module else {
        return nil
      }
      name = QualifiedName(module: module, name: String(text[text.index(after: dot)...]))
    } else {
      name = QualifiedName(module: document.module, name: text)
    }
    return definitions[name].map { (name, $0) }
  }

  /// The message for a name that does not resolve: says whether the include is missing.
  private func unknownNameMessage(_ kind: String, _ text: String, in document: ResolvedDocument)
    -> String
  {
    if let dot = text.lastIndex(of: "."), !text[..<dot].contains(".") {
      let module = String(text[..<dot])
      if !document.includedModules.contains(module) && module != document.module {
        return
          "unknown \(kind) '\(text)': '\(module)' is not included; add include \"\(module).thrift\""
      }
    }
    return "unknown \(kind) '\(text)'"
  }

  /// Resolves a type written in `document`.
  public func resolve(_ type: TypeReference, in document: ResolvedDocument) throws -> ResolvedType {
    var visiting: Set<QualifiedName> = []
    return try resolve(type, in: document, visiting: &visiting)
  }

  private func resolve(
    _ type: TypeReference,
    in document: ResolvedDocument,
    visiting: inout Set<QualifiedName>
  ) throws -> ResolvedType {
    switch type {
    case .bool: return .bool
    case .i8: return .i8
    case .i16: return .i16
    case .i32: return .i32
    case .i64: return .i64
    case .double: return .double
    case .string: return .string
    case .binary: return .binary
    case .uuid: return .uuid
    case .list(let element): return .list(try resolve(element, in: document, visiting: &visiting))
    case .set(let element): return .set(try resolve(element, in: document, visiting: &visiting))
    case .map(let key, let value):
      return .map(
        key: try resolve(key, in: document, visiting: &visiting),
        value: try resolve(value, in: document, visiting: &visiting)
      )
    case .named(let text, let location):
      guard let (name, definition) = lookup(text, in: document) else {
        throw IDLError(unknownNameMessage("type", text, in: document), at: location)
      }
      switch definition {
      case .enum: return .enumeration(name)
      case .struct: return .structure(name)
      case .typedef(let typedef):
        guard visiting.insert(name).inserted, let owner = self.document(module: name.module) else {
          throw IDLError("typedef '\(name.name)' refers to itself", at: typedef.location)
        }
        defer { visiting.remove(name) }
        return .typedef(name, try resolve(typedef.type, in: owner, visiting: &visiting))
      case .const: throw IDLError("'\(text)' is a constant, not a type", at: location)
      case .service: throw IDLError("'\(text)' is a service, not a type", at: location)
      }
    }
  }

  /// The service an `extends` clause (or any reference) names, as seen from `document`.
  public func service(
    named text: String,
    in document: ResolvedDocument,
    at location: SourceLocation
  )
    throws -> (QualifiedName, ServiceDefinition)
  {
    guard let (name, definition) = lookup(text, in: document) else {
      throw IDLError(unknownNameMessage("service", text, in: document), at: location)
    }
    guard case .service(let service) = definition else {
      throw IDLError("'\(text)' is not a service", at: location)
    }
    return (name, service)
  }

  /// What an identifier in a constant value names: `NAME`, `Enum.CASE`, `module.NAME` or
  /// `module.Enum.CASE`.
  public func resolveConstant(
    _ text: String,
    in document: ResolvedDocument,
    at location: SourceLocation
  )
    throws -> ConstantReference
  {
    if let (name, definition) = lookup(text, in: document), case .const(let constant) = definition {
      return .constant(name, constant)
    }
    // `Enum.CASE` or `module.Enum.CASE`: the enum is everything before the last dot.
    if let dot = text.lastIndex(of: ".") {
      let enumText = String(text[..<dot])
      let caseName = String(text[text.index(after: dot)...])
      if let (name, definition) = lookup(enumText, in: document),
        case .enum(let enumeration) = definition
      {
        guard let match = enumeration.cases.first(where: { $0.name == caseName }) else {
          throw IDLError("enum '\(enumeration.name)' has no case '\(caseName)'", at: location)
        }
        return .enumCase(name, match)
      }
    }
    throw IDLError(unknownNameMessage("constant", text, in: document), at: location)
  }

  // MARK: Loading

  /// Follows includes depth first, so every file lands in `documents` after what it includes.
  private struct Loader {
    let includePaths: [String]
    let reader: FileReader

    mutating func load(
      path: String,
      text: String,
      includedFrom chain: [String],
      into program: inout IDLProgram
    ) throws {
      if program.documents.contains(where: { $0.path == path }) { return }
      let document = try ThriftParser.parse(source: text, path: path)
      let module = Self.moduleName(path)
      var included: Set<String> = []
      for include in document.includes {
        let (includePath, includeText) = try find(include, from: path)
        if includePath == path || chain.contains(includePath) {
          let cycle = (chain + [path, includePath]).map(Self.moduleName).joined(separator: " -> ")
          throw IDLError("include cycle: \(cycle)", at: include.location)
        }
        try load(path: includePath, text: includeText, includedFrom: chain + [path], into: &program)
        included.insert(Self.moduleName(includePath))
      }
      if let existing = program.document(module: module) {
        throw IDLError(
          "'\(path)' and '\(existing.path)' both define module '\(module)'; rename one",
          at: SourceLocation(file: path, line: 1, column: 1)
        )
      }
      program.byModule[module] = program.documents.count
      program.documents.append(
        ResolvedDocument(module: module, path: path, document: document, includedModules: included)
      )
      for definition in document.definitions {
        program.definitions[QualifiedName(module: module, name: definition.name)] = definition
      }
    }

    /// Looks for an included file next to the including one, then in each include path.
    private func find(_ include: Include, from path: String) throws -> (String, String) {
      let folder = Self.folder(of: path)
      var searched: [String] = []
      let candidates =
        include.path.hasPrefix("/")
        ? [include.path] : ([folder] + includePaths).map { Self.join($0, include.path) }
      for candidate in candidates {
        let normalized = Self.normalize(candidate)
        searched.append(normalized)
        if let text = reader(normalized) { return (normalized, text) }
      }
      throw IDLError(
        "cannot find included file '\(include.path)' (looked for \(searched.joined(separator: ", ")))",
        at: include.location
      )
    }

    static func moduleName(_ path: String) -> String {
      var name = path.split(separator: "/").last.map(String.init) ?? path
      if name.hasSuffix(".thrift") { name.removeLast(".thrift".count) }
      return name
    }

    static func folder(of path: String) -> String {
      guard let slash = path.lastIndex(of: "/") else { return "." }
      return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ folder: String, _ path: String) -> String {
      folder.hasSuffix("/") ? folder + path : folder + "/" + path
    }

    /// Removes `.` and `x/..` components so the same file reached two ways is loaded once.
    static func normalize(_ path: String) -> String {
      let absolute = path.hasPrefix("/")
      var parts: [Substring] = []
      for part in path.split(separator: "/") {
        switch part {
        case ".": continue
        case "..":
          if let last = parts.last, last != ".." {
            parts.removeLast()
          } else if !absolute {
            parts.append(part)
          }
        default: parts.append(part)
        }
      }
      let joined = parts.joined(separator: "/")
      return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
  }
}
