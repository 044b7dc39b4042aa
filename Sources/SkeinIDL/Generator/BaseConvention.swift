/// Recognizes the `Base`/`BaseResp` convention (field 255 of a request or response struct) so
/// generated argument and result structs can expose it to the runtime as `ThriftBase` and
/// `ThriftBaseResp`.
enum BaseKind {
  case request
  case response

  /// The name of field 255 in a request or response struct.
  var carrierField: String { self == .request ? "Base" : "BaseResp" }
  /// The conventional fields of the envelope struct and their types.
  var members: [(name: String, type: ResolvedType)] {
    switch self {
    case .request:
      [("LogID", .string), ("Caller", .string), ("Extra", .map(key: .string, value: .string))]
    case .response:
      [
        ("StatusMessage", .string), ("StatusCode", .i32),
        ("Extra", .map(key: .string, value: .string)),
      ]
    }
  }
}

/// A struct that carries a `Base` or `BaseResp` in field 255.
struct BaseCarrier {
  /// Field 255 of the carrying struct.
  var field: FieldModel
  /// The Swift name of the envelope struct.
  var envelopeType: String
  /// The envelope's conventional fields, in ``BaseKind/members`` order.
  var members: [FieldModel]
}

extension GeneratorContext {
  /// The `Base`/`BaseResp` that a struct type carries in field 255, if it follows the
  /// convention: field 255 named `Base` (or `BaseResp`) whose struct has the conventional
  /// fields with their types, and whose other fields all have defaults.
  func baseCarrier(of type: ResolvedType, kind: BaseKind) -> BaseCarrier? {
    guard case .structure(let name) = type.underlying,
      let definition = program.structDefinition(name), definition.kind == .struct,
      let carrierField = definition.fields.first(where: {
        $0.id == 255 && $0.name == kind.carrierField
      }),
      let owner = program.document(module: name.module)
    else { return nil }
    let ownerContext = switching(to: owner)
    guard
      let carrierModel = try? ownerContext.fieldModels([carrierField], owner: definition.name)
        .first,
      case .structure(let envelopeName) = carrierModel.type.underlying,
      let envelope = program.structDefinition(envelopeName), envelope.kind == .struct,
      let envelopeDocument = program.document(module: envelopeName.module),
      let envelopeFields = try? switching(to: envelopeDocument).fieldModels(
        envelope.fields,
        owner: envelope.name
      )
    else { return nil }
    var members: [FieldModel] = []
    for (memberName, memberType) in kind.members {
      guard let member = envelopeFields.first(where: { $0.field.name == memberName }),
        member.type.underlying == memberType, !member.isRequired
      else { return nil }
      members.append(member)
    }
    // `Envelope()` must exist: every field needs a default.
    guard envelopeFields.allSatisfy({ $0.isOptional || (!$0.isRequired && $0.initialValue != nil) })
    else { return nil }
    return BaseCarrier(
      field: carrierModel,
      envelopeType: types.swiftType(carrierModel.type),
      members: members
    )
  }
}

/// Emits the `requestBase` and `responseBase` accessors.
struct BaseAccessorEmitter {
  let context: GeneratorContext

  /// `requestBase` on an argument struct whose first parameter carries a `Base`.
  func emitRequestBase(
    through parameter: FieldModel,
    carrier: BaseCarrier,
    into out: inout CodeWriter
  ) {
    emitAccessor(
      property: "requestBase",
      frameworkType: "ThriftBase",
      frameworkLabels: ["logID", "caller", "extra"],
      holder: parameter,
      carrier: carrier,
      into: &out
    )
  }

  /// `responseBase` on a result struct whose success value carries a `BaseResp`.
  func emitResponseBase(carrier: BaseCarrier, into out: inout CodeWriter) {
    let success = FieldModel(
      field: carrier.field.field,
      name: "success",
      type: carrier.field.type,
      swiftType: "",
      isOptional: true,
      isBoxed: false,
      initialValue: nil
    )
    emitAccessor(
      property: "responseBase",
      frameworkType: "ThriftBaseResp",
      frameworkLabels: ["statusMessage", "statusCode", "extra"],
      holder: success,
      carrier: carrier,
      into: &out
    )
  }

  /// `holder` is the property of `self` that holds the carrying struct; `carrier.field` is
  /// the envelope property inside it.
  private func emitAccessor(
    property: String,
    frameworkType: String,
    frameworkLabels: [String],
    holder: FieldModel,
    carrier: BaseCarrier,
    into out: inout CodeWriter
  ) {
    let access = context.access
    let envelope = carrier.field.identifier
    out.line("/// The `\(carrier.field.field.name)` envelope, as the runtime reads and fills it.")
    out.block("\(access) var \(property): \(frameworkType)?") { out in
      out.block("get") { out in
        let holderValue =
          holder.isOptional ? "self.\(holder.identifier)?" : "self.\(holder.identifier)"
        if carrier.field.isOptional || holder.isOptional {
          out.line("guard let envelope = \(holderValue).\(envelope) else { return nil }")
        } else {
          out.line("let envelope = \(holderValue).\(envelope)")
        }
        let arguments = zip(frameworkLabels, carrier.members).map { label, member in
          "\(label): envelope.\(member.identifier)"
        }
        out.line("return \(frameworkType)(\(arguments.joined(separator: ", ")))")
      }
      out.block("set") { out in
        if holder.isOptional {
          out.line("guard let newValue, var holder = self.\(holder.identifier) else { return }")
        } else {
          out.line("guard let newValue else { return }")
          out.line("var holder = self.\(holder.identifier)")
        }
        let start =
          carrier.field.isOptional
          ? "holder.\(envelope) ?? \(carrier.envelopeType)()" : "holder.\(envelope)"
        out.line("var envelope = \(start)")
        for (label, member) in zip(frameworkLabels, carrier.members) {
          let isMapWithoutOptional = label == "extra" && !member.isOptional
          let value = isMapWithoutOptional ? "newValue.extra ?? [:]" : "newValue.\(label)"
          out.line("envelope.\(member.identifier) = \(value)")
        }
        out.line("holder.\(envelope) = envelope")
        out.line("self.\(holder.identifier) = holder")
      }
    }
  }
}
