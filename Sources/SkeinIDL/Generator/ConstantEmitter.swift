/// Renders IDL constant values as Swift expressions of a known type, for `const`
/// definitions and field defaults.
extension GeneratorContext {
  /// A Swift expression for `value` as a value of `type`.
  func constantExpression(_ value: ConstValue, type: ResolvedType, at location: SourceLocation)
    throws -> String
  {
    let types = self.types
    let mismatch = IDLError("constant does not fit type '\(types.swiftType(type))'", at: location)
    if case .identifier(let name, let referenceLocation) = value {
      return try identifierExpression(name, type: type, at: referenceLocation)
    }
    switch type.underlying {
    case .bool:
      switch value {
      case .bool(let flag): return flag ? "true" : "false"
      case .int(let number): return number != 0 ? "true" : "false"
      default: throw mismatch
      }
    case .i8, .i16, .i32, .i64:
      switch value {
      case .int(let number):
        let range = integerRange(type.underlying)
        guard range.contains(number) else {
          throw IDLError(
            "constant \(number) does not fit type '\(types.swiftType(type))' (\(range.lowerBound)...\(range.upperBound))",
            at: location
          )
        }
        return String(number)
      case .bool(let flag): return flag ? "1" : "0"
      default: throw mismatch
      }
    case .double:
      switch value {
      case .int(let number): return "\(number).0"
      case .double(let number): return doubleLiteral(number)
      default: throw mismatch
      }
    case .string:
      guard case .string(let text) = value else { throw mismatch }
      return SwiftNaming.stringLiteral(text)
    case .binary:
      guard case .string(let text) = value else { throw mismatch }
      return "Array(\(SwiftNaming.stringLiteral(text)).utf8)"
    case .uuid:
      guard case .string(let text) = value, let bytes = uuidBytes(text) else {
        throw IDLError(
          "expected a UUID string like \"00112233-4455-6677-8899-aabbccddeeff\"",
          at: location
        )
      }
      let tuple = bytes.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
      return "UUID(uuid: (\(tuple)))"
    case .enumeration:
      guard case .int(let number) = value else { throw mismatch }
      return "\(types.swiftType(type))(rawValue: \(number))"
    case .list(let element), .set(let element):
      guard case .list(let elements) = value else { throw mismatch }
      let rendered = try elements.map { try constantExpression($0, type: element, at: location) }
      return "[\(rendered.joined(separator: ", "))]"
    case .map(let key, let mapValue):
      guard case .map(let entries) = value else { throw mismatch }
      if entries.isEmpty { return "[:]" }
      let rendered = try entries.map {
        try constantExpression($0.key, type: key, at: location) + ": "
          + constantExpression($0.value, type: mapValue, at: location)
      }
      return "[\(rendered.joined(separator: ", "))]"
    case .structure(let name):
      return try structExpression(value, name: name, type: type, at: location)
    case .typedef:
      throw mismatch
    }
  }

  /// A struct constant written as a map from field names to values.
  private func structExpression(
    _ value: ConstValue,
    name: QualifiedName,
    type: ResolvedType,
    at location: SourceLocation
  ) throws -> String {
    guard case .map(let entries) = value, let definition = program.structDefinition(name),
      let owner = program.document(module: name.module)
    else {
      throw IDLError("constant does not fit type '\(types.swiftType(type))'", at: location)
    }
    let ownerContext = switching(to: owner)
    let fields = try ownerContext.fieldModels(
      definition.fields,
      owner: "struct '\(definition.name)'"
    )
    var given: [String: String] = [:]
    for entry in entries {
      guard case .string(let fieldName) = entry.key,
        let field = fields.first(where: { $0.field.name == fieldName })
      else {
        throw IDLError("struct '\(definition.name)' has no field \(entry.key)", at: location)
      }
      given[fieldName] = try ownerContext.constantExpression(
        entry.value,
        type: field.type,
        at: location
      )
    }
    if definition.kind == .union {
      guard given.count == 1, let (fieldName, expression) = given.first,
        let field = fields.first(where: { $0.field.name == fieldName })
      else {
        throw IDLError("a union constant sets exactly one field", at: location)
      }
      return "\(types.swiftType(type)).\(field.identifier)(\(expression))"
    }
    let arguments = fields.compactMap { field -> String? in
      given[field.field.name].map { "\(field.label): \($0)" }
    }
    return "\(types.swiftType(type))(\(arguments.joined(separator: ", ")))"
  }

  /// A reference to another constant or to an enum case.
  private func identifierExpression(_ name: String, type: ResolvedType, at location: SourceLocation)
    throws -> String
  {
    switch try program.resolveConstant(name, in: document, at: location) {
    case .constant(let qualified, _):
      return SwiftNaming.constantsNamespace(qualified.module) + "."
        + SwiftNaming.escaped(SwiftNaming.memberName(qualified.name))
    case .enumCase(let enumName, let enumCase):
      return
        "\(SwiftNaming.typeName(enumName.name)).\(SwiftNaming.escaped(SwiftNaming.memberName(enumCase.name)))"
    }
  }

  private func integerRange(_ type: ResolvedType) -> ClosedRange<Int64> {
    switch type {
    case .i8: Int64(Int8.min)...Int64(Int8.max)
    case .i16: Int64(Int16.min)...Int64(Int16.max)
    case .i32: Int64(Int32.min)...Int64(Int32.max)
    default: Int64.min...Int64.max
    }
  }

  private func doubleLiteral(_ value: Double) -> String {
    if value.isNaN { return "Double.nan" }
    if value.isInfinite { return value < 0 ? "-Double.infinity" : "Double.infinity" }
    let text = "\(value)"
    return text.contains(".") || text.contains("e") ? text : text + ".0"
  }

  private func uuidBytes(_ text: String) -> [UInt8]? {
    let hex = text.filter { $0 != "-" }
    guard hex.count == 32, text.count == 36 else { return nil }
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
      bytes.append(byte)
      index = next
    }
    return bytes
  }
}
