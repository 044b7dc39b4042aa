// A recursive-descent parser for Thrift IDL (https://thrift.apache.org/docs/idl).
//
// It reads one token ahead and never backtracks. Every loop either consumes a token or throws,
// so no input can make it spin, and the two recursive constructs (container types and constant
// lists/maps) are capped at `ThriftParser.maximumNestingDepth` so no input can exhaust the stack.

/// Parses Thrift IDL source text into a `ThriftDocument`.
public enum ThriftParser {
  /// How deeply container types (`list<list<…>>`) and constant lists and maps may nest.
  public static let maximumNestingDepth = 64

  /// Parses one `.thrift` file.
  ///
  /// - Parameters:
  ///   - source: The file's text.
  ///   - path: The file's path, used in every `SourceLocation` of the result and of errors.
  /// - Returns: The file's headers and definitions, in source order.
  /// - Throws: `IDLError` at the first lexical, syntax or duplicate-name problem.
  public static func parse(source: String, path: String) throws(IDLError) -> ThriftDocument {
    var parser = try IDLParser(source: source, path: path)
    return try parser.parseDocument()
  }
}

/// The parser's state: the lexer and the one token of look-ahead.
struct IDLParser {
  private var lexer: Lexer
  private var token: Token
  private let path: String

  /// Words with a meaning in Thrift IDL, which therefore cannot name a definition, field, enum
  /// case or function. Swift keywords are deliberately absent: `class` or `self` are fine Thrift
  /// names, and the generator escapes them.
  static let reservedWords: Set<String> = [
    "include", "cpp_include", "namespace", "typedef", "enum", "const", "struct", "union",
    "exception", "service", "extends", "throws", "oneway", "void", "required", "optional",
    "bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid", "slist",
    "list", "set", "map", "true", "false", "cpp_type", "xsd_all", "xsd_optional", "xsd_nillable",
    "xsd_attrs",
  ]

  /// Words that start a header or definition. Meeting one inside braces almost always means the
  /// closing brace was forgotten, so the error says that instead of "expected a type".
  private static let topLevelKeywords: Set<String> = [
    "include", "cpp_include", "namespace", "typedef", "enum", "const", "struct", "union",
    "exception", "service",
  ]

  private static let baseTypes: [String: TypeReference] = [
    "bool": .bool, "byte": .i8, "i8": .i8, "i16": .i16, "i32": .i32, "i64": .i64,
    "double": .double, "string": .string, "binary": .binary, "uuid": .uuid,
    // `slist` is a long-deprecated spelling of `string`, still accepted by Apache Thrift.
    "slist": .string,
  ]

  /// Creates a parser positioned on the first token of `source`.
  init(source: String, path: String) throws(IDLError) {
    var lexer = Lexer(source: source, file: path)
    self.token = try lexer.next()
    self.lexer = lexer
    self.path = path
  }

  // MARK: - Document

  /// Parses the whole input: headers first, then definitions.
  mutating func parseDocument() throws(IDLError) -> ThriftDocument {
    var document = ThriftDocument(path: path)
    var definedAt: [String: SourceLocation] = [:]
    while token.kind != .endOfFile {
      guard let word = token.identifier else { throw expectedDefinition() }
      switch word {
      case "include", "cpp_include", "namespace":
        // Apache Thrift's grammar is `Header* Definition*`; a late header is a syntax error.
        guard document.definitions.isEmpty else {
          throw IDLError("'\(word)' must come before all definitions", at: token.location)
        }
        try parseHeader(word, into: &document)
      default:
        guard let definition = try parseDefinition(word) else { throw expectedDefinition() }
        if let first = definedAt[definition.name] {
          throw IDLError(
            "duplicate definition '\(definition.name)' (first defined at line \(first.line))",
            at: definition.location
          )
        }
        definedAt[definition.name] = definition.location
        document.definitions.append(definition)
      }
      try skipSeparator()
    }
    return document
  }

  private func expectedDefinition() -> IDLError {
    expected("a definition (typedef, enum, const, struct, union, exception or service)")
  }

  private mutating func parseHeader(
    _ word: String,
    into document: inout ThriftDocument
  ) throws(IDLError) {
    let location = token.location
    try advance()
    switch word {
    case "include", "cpp_include":
      guard case .string(let file) = token.kind else {
        throw expected("a file path in quotes after '\(word)'")
      }
      try advance()
      if word == "include" {
        document.includes.append(Include(path: file, location: location))
      } else {
        document.cppIncludes.append(file)
      }
    default:
      let scope: String
      if token.isPunctuation("*") {
        scope = "*"
      } else if let identifier = token.identifier {
        scope = identifier
      } else {
        throw expected("a language (or '*') after 'namespace'")
      }
      try advance()
      guard let name = token.identifier else {
        throw expected("a namespace name after 'namespace \(scope)'")
      }
      try advance()
      _ = try parseAnnotations()
      document.namespaces.append(Namespace(scope: scope, name: name))
    }
  }

  /// Parses the definition starting with keyword `word`, or returns `nil` if `word` starts none.
  private mutating func parseDefinition(_ word: String) throws(IDLError) -> Definition? {
    let doc = token.doc
    switch word {
    case "typedef":
      try advance()
      let type = try parseType()
      let (name, location) = try expectName("typedef", "after type '\(type)'")
      let annotations = try parseAnnotations()
      return .typedef(
        TypedefDefinition(
          name: name,
          type: type,
          annotations: annotations,
          doc: doc,
          location: location
        )
      )
    case "const":
      try advance()
      let type = try parseType()
      let (name, location) = try expectName("constant", "after type '\(type)'")
      try expectPunctuation("=", "after constant name '\(name)'")
      let value = try parseConstValue(depth: 0)
      let annotations = try parseAnnotations()
      return .const(
        ConstDefinition(
          name: name,
          type: type,
          value: value,
          annotations: annotations,
          doc: doc,
          location: location
        )
      )
    case "enum":
      return .enum(try parseEnum(doc: doc))
    case "struct":
      return .struct(try parseStruct(.struct, doc: doc))
    case "union":
      return .struct(try parseStruct(.union, doc: doc))
    case "exception":
      return .struct(try parseStruct(.exception, doc: doc))
    case "service":
      return .service(try parseService(doc: doc))
    default:
      return nil
    }
  }

  // MARK: - Enums

  private mutating func parseEnum(doc: String?) throws(IDLError) -> EnumDefinition {
    try advance()
    let (name, location) = try expectName("enum", "after 'enum'")
    try expectPunctuation("{", "to open enum '\(name)'")
    var cases: [EnumCase] = []
    var declaredAt: [String: SourceLocation] = [:]
    var nextValue: Int64 = 0
    while !(try consumePunctuation("}")) {
      guard let word = token.identifier, !Self.topLevelKeywords.contains(word) else {
        throw expected("'}' to close enum '\(name)'")
      }
      let caseDoc = token.doc
      let (caseName, caseLocation) = try expectName("enum case", "in enum '\(name)'")
      if let first = declaredAt[caseName] {
        throw IDLError(
          "duplicate case '\(caseName)' in enum '\(name)' (first declared at line \(first.line))",
          at: caseLocation
        )
      }
      declaredAt[caseName] = caseLocation
      var value = nextValue
      var valueLocation = caseLocation
      let isExplicit = try consumePunctuation("=")
      if isExplicit {
        guard case .integer(let written, _) = token.kind else {
          throw expected("an integer value for enum case '\(caseName)'")
        }
        value = written
        valueLocation = token.location
        try advance()
      }
      guard let value32 = Int32(exactly: value) else {
        throw IDLError(
          "enum value \(value) for '\(caseName)' does not fit in i32",
          at: valueLocation
        )
      }
      let annotations = try parseAnnotations()
      try skipSeparator()
      cases.append(
        EnumCase(
          name: caseName,
          value: value32,
          isExplicit: isExplicit,
          annotations: annotations,
          doc: caseDoc,
          location: caseLocation
        )
      )
      nextValue = Int64(value32) + 1
    }
    let annotations = try parseAnnotations()
    return EnumDefinition(
      name: name,
      cases: cases,
      annotations: annotations,
      doc: doc,
      location: location
    )
  }

  // MARK: - Structs, unions and exceptions

  private mutating func parseStruct(
    _ kind: StructKind,
    doc: String?
  ) throws(IDLError) -> StructDefinition {
    try advance()
    let (name, location) = try expectName(kind.rawValue, "after '\(kind.rawValue)'")
    // `xsd_all` only mattered to the long-gone XSD generator.
    if token.identifier == "xsd_all" {
      try advance()
    }
    let owner = "\(kind.rawValue) '\(name)'"
    try expectPunctuation("{", "to open \(owner)")
    let fields = try parseFieldList(
      FieldListContext(noun: "field", owner: owner, closing: "}", closingWhat: owner)
    )
    let annotations = try parseAnnotations()
    return StructDefinition(
      kind: kind,
      name: name,
      fields: fields,
      annotations: annotations,
      doc: doc,
      location: location
    )
  }

  /// What a list of fields belongs to, for its error messages.
  private struct FieldListContext {
    /// What one entry is called: "field", "parameter", "exception".
    var noun: String
    /// Whose entries they are: "struct 'Foo'", "function 'get'".
    var owner: String
    /// The punctuation that ends the list.
    var closing: Unicode.Scalar
    /// What the closing punctuation closes: "struct 'Foo'", "parameters of function 'get'".
    var closingWhat: String
  }

  /// Parses fields up to and including the closing punctuation; the opening one is already
  /// consumed.
  private mutating func parseFieldList(
    _ context: FieldListContext
  ) throws(IDLError) -> [Field] {
    var fields: [Field] = []
    var indexByID: [Int16: Int] = [:]
    var indexByName: [String: Int] = [:]
    // Apache Thrift numbers fields written without an id -1, -2, … in order.
    var nextImplicitID = -1
    while !(try consumePunctuation(context.closing)) {
      guard startsField else {
        throw expected("'\(context.closing)' to close \(context.closingWhat)")
      }
      let (field, idLocation) = try parseField(context, implicitID: nextImplicitID)
      if !field.hasExplicitID {
        nextImplicitID -= 1
      }
      if let firstIndex = indexByID[field.id] {
        let first = fields[firstIndex]
        throw IDLError(
          "duplicate \(context.noun) id \(field.id) in \(context.owner) "
            + "(first used by '\(first.name)' at line \(first.location.line))",
          at: idLocation
        )
      }
      if let firstIndex = indexByName[field.name] {
        let first = fields[firstIndex]
        throw IDLError(
          "duplicate \(context.noun) name '\(field.name)' in \(context.owner) "
            + "(first declared at line \(first.location.line))",
          at: field.location
        )
      }
      indexByID[field.id] = fields.count
      indexByName[field.name] = fields.count
      fields.append(field)
    }
    return fields
  }

  /// Whether the current token can begin a field: an id, `required`/`optional`, or a type.
  private var startsField: Bool {
    switch token.kind {
    case .integer: true
    case .identifier(let word): !Self.topLevelKeywords.contains(word)
    default: false
    }
  }

  /// Parses `[id:] [required|optional] Type name [= value] [(annotations)] [,|;]`, returning the
  /// field and where its id (or, for an implicit id, its name) was written.
  private mutating func parseField(
    _ context: FieldListContext,
    implicitID: Int
  ) throws(IDLError) -> (Field, SourceLocation) {
    let doc = token.doc
    var idLocation = token.location
    let id: Int16
    let hasExplicitID: Bool
    if case .integer(let written, let spelling) = token.kind {
      guard let id16 = Int16(exactly: written) else {
        throw IDLError("\(context.noun) id \(spelling) does not fit in i16", at: idLocation)
      }
      try advance()
      try expectPunctuation(":", "after \(context.noun) id \(spelling)")
      id = id16
      hasExplicitID = true
    } else {
      guard let id16 = Int16(exactly: implicitID) else {
        throw IDLError(
          "too many \(context.noun)s without ids in \(context.owner)",
          at: idLocation
        )
      }
      id = id16
      hasExplicitID = false
    }

    var requiredness = Requiredness.default
    if token.identifier == "required" {
      requiredness = .required
      try advance()
    } else if token.identifier == "optional" {
      requiredness = .optional
      try advance()
    }

    let type = try parseType()
    // `&` marks a C++ reference field; it changes nothing on the wire.
    _ = try consumePunctuation("&")
    let (name, location) = try expectName(context.noun, "after type '\(type)'")
    if !hasExplicitID {
      idLocation = location
    }
    var defaultValue: ConstValue?
    if try consumePunctuation("=") {
      defaultValue = try parseConstValue(depth: 0)
    }
    try skipXSDModifiers(fieldName: name)
    let annotations = try parseAnnotations()
    try skipSeparator()
    let field = Field(
      id: id,
      hasExplicitID: hasExplicitID,
      name: name,
      type: type,
      requiredness: requiredness,
      defaultValue: defaultValue,
      annotations: annotations,
      doc: doc,
      location: location
    )
    return (field, idLocation)
  }

  /// Skips `xsd_optional`, `xsd_nillable` and `xsd_attrs { fields }`, which only the old XSD
  /// generator understood; they are still valid syntax.
  private mutating func skipXSDModifiers(fieldName: String) throws(IDLError) {
    if token.identifier == "xsd_optional" {
      try advance()
    }
    if token.identifier == "xsd_nillable" {
      try advance()
    }
    if token.identifier == "xsd_attrs" {
      try advance()
      let owner = "xsd_attrs of field '\(fieldName)'"
      try expectPunctuation("{", "after 'xsd_attrs'")
      _ = try parseFieldList(
        FieldListContext(noun: "field", owner: owner, closing: "}", closingWhat: owner)
      )
    }
  }

  // MARK: - Services

  private mutating func parseService(doc: String?) throws(IDLError) -> ServiceDefinition {
    try advance()
    let (name, location) = try expectName("service", "after 'service'")
    var base: String?
    if token.identifier == "extends" {
      try advance()
      guard let written = token.identifier, !Self.reservedWords.contains(written) else {
        throw expected("a service name after 'extends'")
      }
      base = written
      try advance()
    }
    try expectPunctuation("{", "to open service '\(name)'")
    var functions: [Function] = []
    var declaredAt: [String: SourceLocation] = [:]
    while !(try consumePunctuation("}")) {
      guard let word = token.identifier, !Self.topLevelKeywords.contains(word) else {
        throw expected("'}' to close service '\(name)'")
      }
      let function = try parseFunction()
      if let first = declaredAt[function.name] {
        throw IDLError(
          "duplicate function '\(function.name)' in service '\(name)' "
            + "(first declared at line \(first.line))",
          at: function.location
        )
      }
      declaredAt[function.name] = function.location
      functions.append(function)
    }
    let annotations = try parseAnnotations()
    return ServiceDefinition(
      name: name,
      extends: base,
      functions: functions,
      annotations: annotations,
      doc: doc,
      location: location
    )
  }

  /// Parses `[oneway] (void | Type) name(params) [throws (fields)] [(annotations)] [,|;]`.
  private mutating func parseFunction() throws(IDLError) -> Function {
    let doc = token.doc
    let onewayLocation = token.location
    let isOneway = token.identifier == "oneway"
    if isOneway {
      try advance()
    }
    var returnType: TypeReference?
    if token.identifier == "void" {
      try advance()
    } else {
      returnType = try parseType()
    }
    let (name, location) = try expectName(
      "function",
      returnType.map { "after return type '\($0)'" } ?? "after 'void'"
    )
    try expectPunctuation("(", "after function name '\(name)'")
    let parameters = try parseFieldList(
      FieldListContext(
        noun: "parameter",
        owner: "function '\(name)'",
        closing: ")",
        closingWhat: "parameters of function '\(name)'"
      )
    )
    var exceptions: [Field] = []
    if token.identifier == "throws" {
      try advance()
      try expectPunctuation("(", "after 'throws'")
      exceptions = try parseFieldList(
        FieldListContext(
          noun: "exception",
          owner: "function '\(name)'",
          closing: ")",
          closingWhat: "throws clause of function '\(name)'"
        )
      )
    }
    // A oneway call gets no reply, so there is nowhere to put a result or an exception.
    if isOneway, let returnType {
      throw IDLError(
        "oneway function '\(name)' must return void, not '\(returnType)'",
        at: onewayLocation
      )
    }
    if isOneway, !exceptions.isEmpty {
      throw IDLError("oneway function '\(name)' cannot throw exceptions", at: onewayLocation)
    }
    let annotations = try parseAnnotations()
    try skipSeparator()
    return Function(
      name: name,
      returnType: returnType,
      isOneway: isOneway,
      parameters: parameters,
      exceptions: exceptions,
      annotations: annotations,
      doc: doc,
      location: location
    )
  }

  // MARK: - Types

  /// Parses a type. `depth` counts the containers around it, to cap the recursion.
  private mutating func parseType(depth: Int = 0) throws(IDLError) -> TypeReference {
    guard depth <= ThriftParser.maximumNestingDepth else {
      throw IDLError(
        "types are nested more than \(ThriftParser.maximumNestingDepth) levels deep",
        at: token.location
      )
    }
    guard let word = token.identifier else { throw expected("a type") }
    let location = token.location
    let type: TypeReference
    if let base = Self.baseTypes[word] {
      try advance()
      type = base
    } else if word == "list" || word == "set" {
      try advance()
      try skipCppType()
      try expectPunctuation("<", "after '\(word)'")
      let element = try parseType(depth: depth + 1)
      try expectPunctuation(">", "after \(word) element type '\(element)'")
      try skipCppType()
      type = word == "list" ? .list(element) : .set(element)
    } else if word == "map" {
      try advance()
      try skipCppType()
      try expectPunctuation("<", "after 'map'")
      let key = try parseType(depth: depth + 1)
      try expectPunctuation(",", "after map key type '\(key)'")
      let value = try parseType(depth: depth + 1)
      try expectPunctuation(">", "after map value type '\(value)'")
      try skipCppType()
      type = .map(key: key, value: value)
    } else {
      guard !Self.reservedWords.contains(word) else { throw expected("a type") }
      try advance()
      // As in Apache Thrift, only base and container types take annotations; after a named
      // type the next thing must be a name.
      return .named(word, location)
    }
    // Type annotations (`list<i32> (python.immutable = "")`) steer other languages' generators.
    _ = try parseAnnotations()
    return type
  }

  /// Skips `cpp_type "std::vector<int>"`, which only steers the C++ generator.
  private mutating func skipCppType() throws(IDLError) {
    guard token.identifier == "cpp_type" else { return }
    try advance()
    guard case .string = token.kind else {
      throw expected("a C++ type in quotes after 'cpp_type'")
    }
    try advance()
  }

  // MARK: - Constant values

  /// Parses a constant. `depth` counts the lists and maps around it, to cap the recursion.
  private mutating func parseConstValue(depth: Int) throws(IDLError) -> ConstValue {
    guard depth <= ThriftParser.maximumNestingDepth else {
      throw IDLError(
        "constant values are nested more than \(ThriftParser.maximumNestingDepth) levels deep",
        at: token.location
      )
    }
    let location = token.location
    switch token.kind {
    case .integer(let value, _):
      try advance()
      return .int(value)
    case .double(let value, _):
      try advance()
      return .double(value)
    case .string(let value):
      try advance()
      return .string(value)
    case .identifier(let word) where word == "true" || word == "false":
      try advance()
      return .bool(word == "true")
    case .identifier(let word) where !Self.reservedWords.contains(word):
      try advance()
      return .identifier(word, location)
    case .punctuation("["):
      try advance()
      var elements: [ConstValue] = []
      while !(try consumePunctuation("]")) {
        guard token.kind != .endOfFile else { throw expected("']' to close list constant") }
        elements.append(try parseConstValue(depth: depth + 1))
        try skipSeparator()
      }
      return .list(elements)
    case .punctuation("{"):
      try advance()
      var entries: [ConstMapEntry] = []
      while !(try consumePunctuation("}")) {
        guard token.kind != .endOfFile else { throw expected("'}' to close map constant") }
        let key = try parseConstValue(depth: depth + 1)
        try expectPunctuation(":", "after map key")
        let value = try parseConstValue(depth: depth + 1)
        entries.append(ConstMapEntry(key: key, value: value))
        try skipSeparator()
      }
      return .map(entries)
    default:
      throw expected("a constant value")
    }
  }

  // MARK: - Annotations

  /// Parses `( key = "value", flag, … )` if the current token opens one; otherwise returns `[]`.
  private mutating func parseAnnotations() throws(IDLError) -> [Annotation] {
    guard try consumePunctuation("(") else { return [] }
    var annotations: [Annotation] = []
    while !(try consumePunctuation(")")) {
      // Keys are free-form (`cpp.type`, `go.tag`, even `final`), so keywords are accepted too.
      guard let key = token.identifier else { throw expected("an annotation name or ')'") }
      try advance()
      var value = "1"
      if try consumePunctuation("=") {
        switch token.kind {
        case .string(let text): value = text
        case .identifier(let text): value = text
        case .integer(_, let spelling), .double(_, let spelling): value = spelling
        default: throw expected("a value for annotation '\(key)'")
        }
        try advance()
      }
      annotations.append(Annotation(key: key, value: value))
      try skipSeparator()
    }
    return annotations
  }

  // MARK: - Token helpers

  private mutating func advance() throws(IDLError) {
    token = try lexer.next()
  }

  /// Consumes the punctuation `scalar` if it is next, and says whether it was.
  private mutating func consumePunctuation(_ scalar: Unicode.Scalar) throws(IDLError) -> Bool {
    guard token.isPunctuation(scalar) else { return false }
    try advance()
    return true
  }

  /// Consumes the punctuation `scalar` or throws "expected 'scalar' `context`, found …". The
  /// context is only built when it is needed, since it often describes a whole type.
  private mutating func expectPunctuation(
    _ scalar: Unicode.Scalar,
    _ context: @autoclosure () -> String
  ) throws(IDLError) {
    guard try consumePunctuation(scalar) else { throw expected("'\(scalar)' \(context())") }
  }

  /// Skips one optional `,` or `;`, which Thrift allows after list items of every kind.
  private mutating func skipSeparator() throws(IDLError) {
    if token.isPunctuation(",") || token.isPunctuation(";") {
      try advance()
    }
  }

  /// Reads the name of a `noun` (a definition, field, case or function), rejecting keywords
  /// and dotted names, which could never be referred to.
  private mutating func expectName(
    _ noun: String,
    _ context: @autoclosure () -> String
  ) throws(IDLError) -> (String, SourceLocation) {
    guard let name = token.identifier else { throw expected("\(noun) name \(context())") }
    let location = token.location
    if Self.reservedWords.contains(name) {
      let article = noun.first.map { "aeio".contains($0) } == true ? "an" : "a"
      throw IDLError(
        "'\(name)' is a reserved word and cannot be used as \(article) \(noun) name",
        at: location
      )
    }
    if name.utf8.contains(UInt8(ascii: ".")) {
      throw IDLError("\(noun) name '\(name)' must not contain '.'", at: location)
    }
    try advance()
    return (name, location)
  }

  /// An error at the current token: "expected `what`, found `token`".
  private func expected(_ what: String) -> IDLError {
    IDLError("expected \(what), found \(token.readableDescription)", at: token.location)
  }
}
