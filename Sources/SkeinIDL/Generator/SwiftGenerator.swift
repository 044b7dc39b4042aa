/// Generates Swift source from a loaded ``IDLProgram``: one file per Thrift document.
///
/// All generated types share one Swift module, so a type's Swift name must be unique across
/// the documents generated together; a clash is an error that names both definitions.
public struct SwiftGenerator: Sendable {
  /// The access level of generated declarations.
  public enum AccessLevel: String, Sendable, CaseIterable {
    case `public`
    case `package`
    case `internal`
  }

  /// One generated Swift file.
  public struct File: Sendable, Hashable {
    /// The file name (`example.swift` for `example.thrift`).
    public var name: String
    /// The Swift source.
    public var contents: String
  }

  /// The loaded program.
  public let program: IDLProgram
  /// The access level of generated declarations.
  public let accessLevel: AccessLevel

  /// Creates a generator.
  ///
  /// - Parameters:
  ///   - program: The loaded, resolved IDL.
  ///   - accessLevel: The access level of generated declarations (default `public`).
  public init(program: IDLProgram, accessLevel: AccessLevel = .public) {
    self.program = program
    self.accessLevel = accessLevel
  }

  /// Generates the given documents.
  ///
  /// - Parameter modules: The module names (file base names) to generate; `nil` for the
  ///   program's root documents.
  /// - Returns: One file per document, in the order given.
  /// - Throws: ``IDLError`` for a definition Swift cannot express (a name clash).
  public func generate(modules: [String]? = nil) throws -> [File] {
    let documents = try (modules ?? program.roots.map(\.module)).map { module in
      guard let document = program.document(module: module) else {
        throw IDLError(
          "no document '\(module)' was loaded",
          at: SourceLocation(file: module, line: 1, column: 1)
        )
      }
      return document
    }
    try checkTypeNames(documents)
    let recursion = RecursionAnalysis(edges: try containmentEdges())
    return try documents.map { document in
      let context = GeneratorContext(
        program: program,
        document: document,
        access: accessLevel.rawValue,
        recursion: recursion
      )
      return File(
        name: document.module + ".swift",
        contents: try generate(document, context: context)
      )
    }
  }

  private func generate(_ document: ResolvedDocument, context: GeneratorContext) throws -> String {
    var body = CodeWriter()
    var usesUUID = false
    var constants = CodeWriter()
    constants.indentation = 1
    for definition in document.document.definitions {
      if case .const = definition {} else { body.line() }
      switch definition {
      case .typedef(let typedef):
        let type = try context.resolve(typedef.type)
        usesUUID = usesUUID || context.types.mentionsUUID(type)
        body.doc(typedef.doc)
        body.line(
          "\(context.access) typealias \(SwiftNaming.typeName(typedef.name)) = \(context.types.swiftType(type))"
        )
      case .enum(let definition):
        try EnumEmitter(context: context).emit(definition, into: &body)
      case .const(let constant):
        let type = try context.resolve(constant.type)
        usesUUID = usesUUID || context.types.mentionsUUID(type)
        let value = try context.constantExpression(
          constant.value,
          type: type,
          at: constant.location
        )
        constants.doc(constant.doc ?? "`\(constant.name)`.")
        let name = SwiftNaming.escaped(SwiftNaming.memberName(constant.name))
        constants.line(
          "\(context.access) static let \(name): \(context.types.swiftType(type)) = \(value)"
        )
      case .struct(let definition):
        let name = QualifiedName(module: document.module, name: definition.name)
        let fields = try context.fieldModels(
          definition.fields,
          owner: "\(definition.kind) '\(definition.name)'",
          structName: name
        )
        usesUUID = usesUUID || fields.contains { context.types.mentionsUUID($0.type) }
        if definition.kind == .union {
          UnionEmitter(context: context).emit(
            definition,
            fields: fields,
            isIndirect: context.recursion.isCyclic(name),
            into: &body
          )
        } else {
          var conformances = ["ThriftStruct", "Hashable"]
          if definition.kind == .exception { conformances.append("Error") }
          let shape = StructEmitter.Shape(
            name: SwiftNaming.typeName(definition.name),
            idlName: definition.name,
            doc: definition.doc,
            conformances: conformances,
            fields: fields,
            initAccess: context.access
          )
          StructEmitter(context: context).emit(shape, into: &body)
        }
      case .service(let service):
        for function in service.functions {
          let types =
            try (function.parameters + function.exceptions).map { try context.resolve($0.type) }
            + (function.returnType.map { [try context.resolve($0)] } ?? [])
          usesUUID = usesUUID || types.contains { context.types.mentionsUUID($0) }
        }
        try ServiceEmitter(context: context).emit(service, into: &body)
      }
    }

    if !constants.text.isEmpty {
      let source = document.path.split(separator: "/").last.map(String.init) ?? document.path
      body.line()
      body.line("/// The constants of `\(source)`.")
      body.line("\(context.access) enum \(SwiftNaming.constantsNamespace(document.module)) {")
      body.append(constants)
      body.line("}")
    }

    var header = CodeWriter()
    let source = document.path.split(separator: "/").last.map(String.init) ?? document.path
    header.line(
      "// Generated by skein gen from \(source). Do not edit: change the IDL and regenerate."
    )
    header.line("// swift-format-ignore-file")
    header.line()
    let importAccess = accessLevel == .internal ? "" : "\(accessLevel.rawValue) "
    header.line("\(importAccess)import SkeinThrift")
    if usesUUID {
      header.line()
      header.line("#if canImport(FoundationEssentials)")
      header.line("\(importAccess)import FoundationEssentials")
      header.line("#else")
      header.line("\(importAccess)import Foundation")
      header.line("#endif")
    }
    return header.text + body.text
  }

  /// Every Swift type name a document declares, with where it came from.
  private func declaredTypeNames(_ document: ResolvedDocument) -> [(String, String, SourceLocation)]
  {
    document.document.definitions.flatMap { definition -> [(String, String, SourceLocation)] in
      let name = SwiftNaming.typeName(definition.name)
      let origin = "\(document.module).\(definition.name)"
      switch definition {
      case .const:
        // All of a file's constants share one namespace, so they share one origin.
        let namespace = SwiftNaming.constantsNamespace(document.module)
        return [(namespace, "the constants of \(document.module)", definition.location)]
      case .service:
        return [
          (name, origin, definition.location), (name + "Methods", origin, definition.location),
          (name + "Client", origin, definition.location),
          (name + "Processor", origin, definition.location),
        ]
      default: return [(name, origin, definition.location)]
      }
    }
  }

  private func checkTypeNames(_ documents: [ResolvedDocument]) throws {
    var seen: [String: String] = [:]
    for document in documents {
      for (name, origin, location) in declaredTypeNames(document) {
        if let other = seen[name], other != origin {
          throw IDLError(
            "'\(origin)' and '\(other)' both become the Swift type '\(name)' in one module; rename one",
            at: location
          )
        }
        seen[name] = origin
      }
    }
  }

  /// For each struct-like definition, the struct-like types its fields hold directly.
  private func containmentEdges() throws -> [QualifiedName: [QualifiedName]] {
    var edges: [QualifiedName: [QualifiedName]] = [:]
    for document in program.documents {
      for case .struct(let definition) in document.document.definitions {
        let name = QualifiedName(module: document.module, name: definition.name)
        edges[name] = try definition.fields.compactMap { field in
          if case .structure(let target) = try program.resolve(field.type, in: document).underlying
          {
            return target
          }
          return nil
        }
      }
    }
    return edges
  }
}
