/// What every emitter needs while generating one document: the program for lookups, the
/// document names resolve in, the access level, and the recursion analysis.
struct GeneratorContext {
  let program: IDLProgram
  let document: ResolvedDocument
  /// `public`, `package` or `internal`.
  let access: String
  let recursion: RecursionAnalysis

  var types: SwiftTypes { SwiftTypes(program: program) }

  /// The same context for another document (for inherited service functions).
  func switching(to other: ResolvedDocument) -> GeneratorContext {
    GeneratorContext(program: program, document: other, access: access, recursion: recursion)
  }

  /// Resolves a type reference written in this document.
  func resolve(_ type: TypeReference) throws -> ResolvedType {
    try program.resolve(type, in: document)
  }

  /// Swift names for members, checking that no two collide once converted.
  func uniqueMemberNames(_ names: [(String, SourceLocation)], in owner: String) throws -> [String] {
    var seen: [String: String] = [:]
    return try names.map { name, location in
      let swift = SwiftNaming.memberName(name)
      if let other = seen[swift] {
        throw IDLError(
          "'\(name)' and '\(other)' in \(owner) both become '\(swift)' in Swift; rename one",
          at: location
        )
      }
      seen[swift] = name
      return swift
    }
  }

  /// Models for a struct's fields or a function's parameters.
  ///
  /// - Parameters:
  ///   - fields: The fields as written.
  ///   - owner: How errors name the owner ("struct 'Foo'").
  ///   - structName: The struct that holds the fields, for the recursion analysis.
  func fieldModels(_ fields: [Field], owner: String, structName: QualifiedName? = nil) throws
    -> [FieldModel]
  {
    let names = try uniqueMemberNames(fields.map { ($0.name, $0.location) }, in: owner)
    return try zip(fields, names).map { field, name in
      let type = try resolve(field.type)
      let types = self.types
      let initial: String?
      if let value = field.defaultValue {
        initial = try constantExpression(value, type: type, at: field.location)
      } else {
        initial = types.zeroValue(type)
      }
      let isOptional =
        field.requiredness == .optional
        || (field.requiredness == .default && field.defaultValue == nil
          && types.hasNoZeroValue(type))
      let isBoxed = structName.map { recursion.needsBox(from: $0, to: type.underlying) } ?? false
      return FieldModel(
        field: field,
        name: name,
        type: type,
        swiftType: types.swiftType(type),
        isOptional: isOptional,
        isBoxed: isBoxed,
        initialValue: initial
      )
    }
  }

  /// The service an `extends` clause names.
  func service(named name: String, at location: SourceLocation) throws -> (
    name: String, definition: ServiceDefinition, document: ResolvedDocument
  ) {
    let (qualified, definition) = try program.service(named: name, in: document, at: location)
    guard let owner = program.document(module: qualified.module) else {
      throw IDLError("unknown service '\(name)'", at: location)
    }
    return (qualified.name, definition, owner)
  }

  /// Every function a service inherits, most distant ancestor first, each with the context
  /// its types resolve in.
  func inheritedFunctions(of service: ServiceDefinition) throws -> [(
    context: GeneratorContext, service: String, function: Function
  )] {
    guard let parentName = service.extends else { return [] }
    let parent = try self.service(named: parentName, at: service.location)
    let parentContext = switching(to: parent.document)
    let inherited = try parentContext.inheritedFunctions(of: parent.definition)
    return inherited + parent.definition.functions.map { (parentContext, parent.name, $0) }
  }
}
