/// One field as generated Swift sees it: its Swift name and type, how it is stored, and the
/// value it starts with.
struct FieldModel {
  /// The field from the IDL.
  var field: Field
  /// The lowerCamelCase Swift name, unescaped.
  var name: String
  /// The resolved type.
  var type: ResolvedType
  /// The Swift type without optionality.
  var swiftType: String
  /// Whether the property is `T?`: `optional` fields, and default-requiredness fields whose
  /// type has no zero value and no IDL default.
  var isOptional: Bool
  /// Whether the field is `required` (a reader that does not see it fails).
  var isRequired: Bool { field.requiredness == .required }
  /// Whether the value sits behind a ``ThriftBox`` because the struct contains itself.
  var isBoxed: Bool
  /// The initial value for a non-optional field (the IDL default or the type's zero value);
  /// `nil` for a required field without a default.
  var initialValue: String?

  /// Whether a decoder must see the field: `required` ones, and any non-optional field
  /// without a value to start from.
  var mustBePresent: Bool { !isOptional && (isRequired || initialValue == nil) }

  /// The name as written in code.
  var identifier: String { SwiftNaming.escaped(name) }
  /// The name as an argument label.
  var label: String { SwiftNaming.argumentLabel(name) }
  /// A parameter declaration without its type: `name`, or `label _name` where the plain name
  /// would shadow something the body uses (`self`, a keyword, the client's `invoker`).
  var parameterName: String {
    SwiftNaming.keywords.contains(name) || name == "invoker" ? "\(label) \(local)" : name
  }
  /// How the body refers to a parameter declared with ``parameterName``.
  var parameterValue: String {
    SwiftNaming.keywords.contains(name) || name == "invoker" ? local : name
  }
  /// The property's declared type.
  var propertyType: String { isOptional ? "\(swiftType)?" : swiftType }
  /// The stored property that holds a boxed field.
  var boxName: String { "_\(name)Box" }
  /// The local a decoder reads the field into.
  var local: String { "_\(name)" }
}
