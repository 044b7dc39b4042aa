import Foundation
import SkeinIDL
import Testing

// Tests of the Thrift IDL lexer and parser through their public entry point,
// `ThriftParser.parse(source:path:)`.

private func parse(_ source: String) throws -> ThriftDocument {
  try ThriftParser.parse(source: source, path: "t.thrift")
}

/// The full `file:line:column: error: message` text of the error parsing `source` throws.
private func parseError(_ source: String) -> String? {
  do {
    _ = try ThriftParser.parse(source: source, path: "bad.thrift")
    return nil
  } catch {
    return error.description
  }
}

private func at(_ line: Int, _ column: Int) -> SkeinIDL.SourceLocation {
  SkeinIDL.SourceLocation(file: "t.thrift", line: line, column: column)
}

extension ThriftDocument {
  fileprivate func structNamed(_ name: String) throws -> StructDefinition {
    for case .struct(let definition) in definitions where definition.name == name {
      return definition
    }
    throw LookupFailure(name: name)
  }

  fileprivate func enumNamed(_ name: String) throws -> EnumDefinition {
    for case .enum(let definition) in definitions where definition.name == name {
      return definition
    }
    throw LookupFailure(name: name)
  }

  fileprivate func constNamed(_ name: String) throws -> ConstDefinition {
    for case .const(let definition) in definitions where definition.name == name {
      return definition
    }
    throw LookupFailure(name: name)
  }

  fileprivate func typedefNamed(_ name: String) throws -> TypedefDefinition {
    for case .typedef(let definition) in definitions where definition.name == name {
      return definition
    }
    throw LookupFailure(name: name)
  }

  fileprivate func serviceNamed(_ name: String) throws -> ServiceDefinition {
    for case .service(let definition) in definitions where definition.name == name {
      return definition
    }
    throw LookupFailure(name: name)
  }
}

private struct LookupFailure: Error {
  var name: String
}

/// A broken input and the exact error it must produce.
struct BrokenIDL: Sendable, CustomTestStringConvertible {
  var source: String
  var error: String

  init(_ source: String, _ error: String) {
    self.source = source
    self.error = error
  }

  var testDescription: String { error }
}

@Suite struct ParserTests {
  // MARK: - Headers

  @Test func headers() throws {
    let document = try parse(
      """
      include "base.thrift"
      include 'shared/common.thrift'
      cpp_include "<vector>"
      namespace go example.api
      namespace * skein.example
      namespace py.twisted tw
      namespace java com.example (package.annotation = "x")

      struct A {}
      """
    )
    #expect(document.path == "t.thrift")
    #expect(
      document.includes == [
        Include(path: "base.thrift", location: at(1, 1)),
        Include(path: "shared/common.thrift", location: at(2, 1)),
      ]
    )
    #expect(document.cppIncludes == ["<vector>"])
    #expect(
      document.namespaces == [
        Namespace(scope: "go", name: "example.api"),
        Namespace(scope: "*", name: "skein.example"),
        Namespace(scope: "py.twisted", name: "tw"),
        Namespace(scope: "java", name: "com.example"),
      ]
    )
    #expect(document.definitions.map(\.name) == ["A"])
  }

  @Test func emptyDocument() throws {
    let document = try parse("  // nothing here\n# nor here\n/* nor here */\n")
    #expect(document.includes.isEmpty)
    #expect(document.namespaces.isEmpty)
    #expect(document.definitions.isEmpty)
  }

  // MARK: - Types and typedefs

  @Test func typedefsOfEveryType() throws {
    let document = try parse(
      """
      typedef bool TBool
      typedef byte TByte
      typedef i8 TI8
      typedef i16 TI16
      typedef i32 (meta = "1") TI32
      typedef i64 TI64;
      typedef double TDouble,
      typedef string TString
      typedef binary TBinary
      typedef uuid TUUID
      typedef slist TSlist
      typedef list<i32> (python.immutable = "") TList
      typedef list<i32> cpp_type "std::vector<int>" TCppList
      typedef set<string> TSet
      typedef map<string, list<set<i64>>> TMap
      typedef map<base.Key,Value> TNamedMap
      typedef base.Base TImported (swift.name = "Imported", deprecated)
      """
    )
    let expected: [(String, TypeReference)] = [
      ("TBool", .bool),
      ("TByte", .i8),
      ("TI8", .i8),
      ("TI16", .i16),
      ("TI32", .i32),
      ("TI64", .i64),
      ("TDouble", .double),
      ("TString", .string),
      ("TBinary", .binary),
      ("TUUID", .uuid),
      ("TSlist", .string),
      ("TList", .list(.i32)),
      ("TCppList", .list(.i32)),
      ("TSet", .set(.string)),
      ("TMap", .map(key: .string, value: .list(.set(.i64)))),
      (
        "TNamedMap",
        .map(key: .named("base.Key", at(16, 13)), value: .named("Value", at(16, 22)))
      ),
      ("TImported", .named("base.Base", at(17, 9))),
    ]
    #expect(document.definitions.count == expected.count)
    for (name, type) in expected {
      #expect(try document.typedefNamed(name).type == type, "\(name)")
    }
    // Type annotations are read and dropped; the typedef's own annotations are kept.
    #expect(try document.typedefNamed("TI32").annotations.isEmpty)
    #expect(
      try document.typedefNamed("TImported").annotations == [
        Annotation(key: "swift.name", value: "Imported"),
        Annotation(key: "deprecated", value: "1"),
      ]
    )
    #expect(try document.typedefNamed("TBool").location == at(1, 14))
    #expect(try document.typedefNamed("TMap").type.description == "map<string,list<set<i64>>>")
  }

  @Test func containerNestingUpToTheLimitIsAccepted() throws {
    let depth = ThriftParser.maximumNestingDepth
    let source =
      "typedef " + String(repeating: "list<", count: depth) + "i32"
      + String(repeating: ">", count: depth) + " Deep"
    var expected = TypeReference.i32
    for _ in 0..<depth {
      expected = .list(expected)
    }
    #expect(try parse(source).typedefNamed("Deep").type == expected)
  }

  // MARK: - Enums

  @Test func enumValuesExplicitAndImplicit() throws {
    let document = try parse(
      """
      enum Color {
        RED,
        GREEN = 5;
        BLUE
        /** The odd one. */
        NEGATIVE = -1 (deprecated)
        AFTER_NEGATIVE,
        HEX = 0x10
        NEXT
        MAX = 2147483647
      } (swift.name = "Colour")
      enum Empty {}
      """
    )
    let color = try document.enumNamed("Color")
    #expect(
      color.cases.map(\.name) == [
        "RED", "GREEN", "BLUE", "NEGATIVE", "AFTER_NEGATIVE", "HEX", "NEXT", "MAX",
      ]
    )
    #expect(color.cases.map(\.value) == [0, 5, 6, -1, 0, 16, 17, Int32.max])
    #expect(color.cases.map(\.isExplicit) == [false, true, false, true, false, true, false, true])
    #expect(color.cases[3].annotations == [Annotation(key: "deprecated", value: "1")])
    #expect(color.cases[3].doc == "The odd one.")
    #expect(color.cases[0].doc == nil)
    #expect(color.cases[1].location == at(3, 3))
    #expect(color.annotations == [Annotation(key: "swift.name", value: "Colour")])
    #expect(color.location == at(1, 6))
    #expect(try document.enumNamed("Empty").cases.isEmpty)
  }

  // MARK: - Constants

  @Test func integerAndDoubleLiterals() throws {
    let document = try parse(
      """
      const i32 DECIMAL = 42
      const i32 POSITIVE = +7
      const i64 MIN = -9223372036854775808
      const i64 MAX = 9223372036854775807
      const i64 HEX = 0x7FFFFFFFFFFFFFFF
      const i32 NEGATIVE_HEX = -0x1f
      const double PI = 3.25
      const double BIG = 1e10
      const double SMALL = -2.5E-3
      const double HALF = .5
      const double SIGNED = +1.5e+2
      """
    )
    let expected: [(String, ConstValue)] = [
      ("DECIMAL", .int(42)),
      ("POSITIVE", .int(7)),
      ("MIN", .int(Int64.min)),
      ("MAX", .int(Int64.max)),
      ("HEX", .int(Int64.max)),
      ("NEGATIVE_HEX", .int(-31)),
      ("PI", .double(3.25)),
      ("BIG", .double(1e10)),
      ("SMALL", .double(-2.5e-3)),
      ("HALF", .double(0.5)),
      ("SIGNED", .double(150)),
    ]
    for (name, value) in expected {
      #expect(try document.constNamed(name).value == value, "\(name)")
    }
    #expect(try document.constNamed("PI").type == .double)
  }

  @Test func stringLiteralsAndEscapes() throws {
    let document = try parse(
      #"""
      const string DOUBLE_QUOTED = "tab\tnew\nline \"quoted\" \\ back\rslash"
      const string SINGLE_QUOTED = 'it\'s "fine"'
      const string UNICODE = "caf\u00e9 \uD83D\uDE00 \u00E9"
      const string RAW_UNICODE = "héllo 👋"
      const string EMPTY = ''
      const string MULTI_LINE = "one
      two"
      """#
    )
    #expect(
      try document.constNamed("DOUBLE_QUOTED").value
        == .string("tab\tnew\nline \"quoted\" \\ back\rslash")
    )
    #expect(try document.constNamed("SINGLE_QUOTED").value == .string("it's \"fine\""))
    #expect(try document.constNamed("UNICODE").value == .string("café 😀 é"))
    #expect(try document.constNamed("RAW_UNICODE").value == .string("héllo 👋"))
    #expect(try document.constNamed("EMPTY").value == .string(""))
    #expect(try document.constNamed("MULTI_LINE").value == .string("one\ntwo"))
  }

  @Test func boolIdentifierListAndMapConstants() throws {
    let document = try parse(
      """
      const bool YES = true
      const bool NO = false;
      const Color FAVORITE = Color.RED,
      const i32 COPY = base.LIMIT
      const list<i32> NUMBERS = [1, 2; 3 4,]
      const list<string> NONE = []
      const map<string, i32> AGES = {"ann": 31, 'bob': 42; "cy": 7}
      const map<string, list<i32>> NESTED = {"a": [1, [2]], "b": [], "c": {1: 2.5}}
      const set<Color> COLORS = [Color.RED Color.BLUE] (frozen)
      """
    )
    #expect(try document.constNamed("YES").value == .bool(true))
    #expect(try document.constNamed("NO").value == .bool(false))
    #expect(try document.constNamed("FAVORITE").value == .identifier("Color.RED", at(3, 24)))
    #expect(try document.constNamed("FAVORITE").type == .named("Color", at(3, 7)))
    #expect(try document.constNamed("COPY").value == .identifier("base.LIMIT", at(4, 18)))
    #expect(
      try document.constNamed("NUMBERS").value == .list([.int(1), .int(2), .int(3), .int(4)])
    )
    #expect(try document.constNamed("NONE").value == .list([]))
    #expect(
      try document.constNamed("AGES").value
        == .map([
          ConstMapEntry(key: .string("ann"), value: .int(31)),
          ConstMapEntry(key: .string("bob"), value: .int(42)),
          ConstMapEntry(key: .string("cy"), value: .int(7)),
        ])
    )
    #expect(
      try document.constNamed("NESTED").value
        == .map([
          ConstMapEntry(key: .string("a"), value: .list([.int(1), .list([.int(2)])])),
          ConstMapEntry(key: .string("b"), value: .list([])),
          ConstMapEntry(
            key: .string("c"),
            value: .map([ConstMapEntry(key: .int(1), value: .double(2.5))])
          ),
        ])
    )
    let colors = try document.constNamed("COLORS")
    #expect(colors.type == .set(.named("Color", at(9, 11))))
    #expect(
      colors.value
        == .list([.identifier("Color.RED", at(9, 28)), .identifier("Color.BLUE", at(9, 38))])
    )
    #expect(colors.annotations == [Annotation(key: "frozen", value: "1")])
  }

  // MARK: - Structs, unions, exceptions

  @Test func structFields() throws {
    let document = try parse(
      """
      struct User {
        1: required i64 id
        2: optional string name = "anon" (go.tag = 'json:"name"', flag),
        3: list<string> tags = ["a", "b"];
        -4: i32 legacy
        bool active = true
        string nickname xsd_optional xsd_nillable
        10: i32 score = -3 xsd_attrs { 1: string unit }
        11: required Profile & profile
        12: map<string, list<i32>> (python.immutable = "") scores
        13: i64 limit = base.MAX_LIMIT
      } (final, table = "users")
      """
    )
    let user = try document.structNamed("User")
    #expect(user.kind == .struct)
    #expect(user.location == at(1, 8))
    #expect(
      user.annotations == [
        Annotation(key: "final", value: "1"), Annotation(key: "table", value: "users"),
      ]
    )
    let fields = user.fields
    #expect(fields.map(\.id) == [1, 2, 3, -4, -1, -2, 10, 11, 12, 13])
    #expect(
      fields.map(\.hasExplicitID) == [
        true, true, true, true, false, false, true, true, true, true,
      ]
    )
    #expect(
      fields.map(\.name) == [
        "id", "name", "tags", "legacy", "active", "nickname", "score", "profile", "scores", "limit",
      ]
    )
    #expect(
      fields.map(\.requiredness) == [
        .required, .optional, .default, .default, .default, .default, .default, .required,
        .default, .default,
      ]
    )
    #expect(
      fields.map(\.type) == [
        .i64, .string, .list(.string), .i32, .bool, .string, .i32, .named("Profile", at(9, 16)),
        .map(key: .string, value: .list(.i32)), .i64,
      ]
    )
    #expect(
      fields.map(\.defaultValue) == [
        nil, .string("anon"), .list([.string("a"), .string("b")]), nil, .bool(true), nil, .int(-3),
        nil, nil, .identifier("base.MAX_LIMIT", at(11, 19)),
      ]
    )
    #expect(
      fields[1].annotations == [
        Annotation(key: "go.tag", value: "json:\"name\""), Annotation(key: "flag", value: "1"),
      ]
    )
    #expect(fields[8].annotations.isEmpty)
    #expect(fields[0].location == at(2, 19))
  }

  @Test func unionsExceptionsAndEmptyStructs() throws {
    let document = try parse(
      """
      union Value { 1: i64 number; 2: string text; }
      exception NotFound {
        1: string message
      }
      struct Empty {}
      struct Bare xsd_all { }
      """
    )
    let value = try document.structNamed("Value")
    #expect(value.kind == .union)
    #expect(value.fields.map(\.name) == ["number", "text"])
    let notFound = try document.structNamed("NotFound")
    #expect(notFound.kind == .exception)
    #expect(notFound.fields.first?.type == .string)
    #expect(try document.structNamed("Empty").fields.isEmpty)
    #expect(try document.structNamed("Bare").fields.isEmpty)
    #expect(document.definitions.map(\.name) == ["Value", "NotFound", "Empty", "Bare"])
  }

  @Test func swiftKeywordsAreValidNames() throws {
    let document = try parse(
      """
      struct class {
        1: i32 self
        2: string func
        3: Type Type
        4: bool async
      }
      enum protocol { init, deinit }
      service Type { void let(1: i32 var) }
      """
    )
    #expect(
      try document.structNamed("class").fields.map(\.name) == [
        "self", "func", "Type", "async",
      ]
    )
    #expect(try document.enumNamed("protocol").cases.map(\.name) == ["init", "deinit"])
    #expect(try document.serviceNamed("Type").functions.first?.parameters.first?.name == "var")
  }

  // MARK: - Services

  @Test func services() throws {
    let document = try parse(
      """
      service Base {
        void ping()
      }
      service Api extends base.Base {
        User get(1: i64 id, 2: bool fresh = false) throws (1: NotFound missing, 2: Invalid bad),
        oneway void fire(1: string event);
        list<User> (a = "b") all()
        void annotated() (http.method = "GET", idempotent)
        i32 implicitParams(i32 a, i32 b)
        void failing() throws (1: Oops oops)
      } (service.tag)
      """
    )
    let base = try document.serviceNamed("Base")
    #expect(base.extends == nil)
    #expect(base.functions.count == 1)
    #expect(base.functions[0].returnType == nil)
    #expect(base.functions[0].parameters.isEmpty)

    let api = try document.serviceNamed("Api")
    #expect(api.extends == "base.Base")
    #expect(api.location == at(4, 9))
    #expect(api.annotations == [Annotation(key: "service.tag", value: "1")])
    #expect(
      api.functions.map(\.name) == [
        "get", "fire", "all", "annotated", "implicitParams", "failing",
      ]
    )

    let get = api.functions[0]
    #expect(get.returnType == .named("User", at(5, 3)))
    #expect(!get.isOneway)
    #expect(get.parameters.map(\.id) == [1, 2])
    #expect(get.parameters.map(\.name) == ["id", "fresh"])
    #expect(get.parameters[1].defaultValue == .bool(false))
    #expect(get.exceptions.map(\.name) == ["missing", "bad"])
    #expect(
      get.exceptions.map(\.type) == [
        .named("NotFound", at(5, 57)), .named("Invalid", at(5, 78)),
      ]
    )
    #expect(get.location == at(5, 8))

    let fire = api.functions[1]
    #expect(fire.isOneway)
    #expect(fire.returnType == nil)
    #expect(fire.parameters.first?.type == .string)

    #expect(api.functions[2].returnType == .list(.named("User", at(7, 8))))
    #expect(api.functions[2].annotations.isEmpty)
    #expect(
      api.functions[3].annotations == [
        Annotation(key: "http.method", value: "GET"), Annotation(key: "idempotent", value: "1"),
      ]
    )
    let implicit = api.functions[4]
    #expect(implicit.parameters.map(\.id) == [-1, -2])
    #expect(implicit.parameters.map(\.hasExplicitID) == [false, false])
    #expect(api.functions[5].exceptions.map(\.id) == [1])
  }

  // MARK: - Comments and doc comments

  @Test func allCommentKinds() throws {
    let document = try parse(
      """
      // line comment
      # shell comment
      /* block
         comment */ struct A { // trailing
        1: i32 a, # trailing
        /* inline */ 2: i32 b /**/
      } /* after */
      """
    )
    let a = try document.structNamed("A")
    #expect(a.fields.map(\.name) == ["a", "b"])
    #expect(a.location == at(4, 22))
    #expect(a.fields[1].location == at(6, 23))
    #expect(a.doc == nil)
    #expect(a.fields.allSatisfy { $0.doc == nil })
  }

  @Test func docCommentsAttachToTheNextItem() throws {
    let document = try parse(
      """
      /** A user of the system. */
      struct User {
        /**
         * The user's id.
         *
         * Never reused.
         *   (Indented.)
         */
        1: i64 id
        // an ordinary comment between does not matter
        /** Optional name. */ // neither does this
        2: optional string name
        3: string undocumented
        /** Dropped: nothing follows inside the struct. */
      }

      /** Colors. */
      enum Color {
        /** Red. */ RED
      }

      /**
       * The API.
       */
      service Api {
        /** Pings. */
        oneway void ping()
        /** Gets. */
        User get()
      }

      /** A limit. */
      const i32 LIMIT = 10
      /** An alias. */
      typedef i64 ID
      /** Exceptional. */
      exception Oops {}
      """
    )
    let user = try document.structNamed("User")
    #expect(user.doc == "A user of the system.")
    #expect(user.fields[0].doc == "The user's id.\n\nNever reused.\n  (Indented.)")
    #expect(user.fields[1].doc == "Optional name.")
    #expect(user.fields[2].doc == nil)
    let color = try document.enumNamed("Color")
    #expect(color.doc == "Colors.")
    #expect(color.cases.first?.doc == "Red.")
    let api = try document.serviceNamed("Api")
    #expect(api.doc == "The API.")
    #expect(api.functions.map(\.doc) == ["Pings.", "Gets."])
    #expect(try document.constNamed("LIMIT").doc == "A limit.")
    #expect(try document.typedefNamed("ID").doc == "An alias.")
    #expect(try document.structNamed("Oops").doc == "Exceptional.")
  }

  @Test func columnsCountUnicodeScalars() throws {
    let document = try parse("/* ü 👋 */ struct A {\n\t1: string s = \"😀\", 2: i32 b\n}")
    let a = try document.structNamed("A")
    #expect(a.location == at(1, 18))
    #expect(a.fields[1].location == at(2, 28))
  }

  @Test func windowsLineEndingsAndByteOrderMark() throws {
    let document = try parse("\u{FEFF}struct A {\r\n  1: i32 a\r\n}\r\n")
    let a = try document.structNamed("A")
    #expect(a.location == at(1, 9))
    #expect(a.fields[0].location == at(2, 10))
  }

  // MARK: - Errors

  static let brokenInputs: [BrokenIDL] = [
    BrokenIDL(
      "struct Foo {\n  1: i32 a\nservice S {}",
      "bad.thrift:3:1: error: expected '}' to close struct 'Foo', found 'service'"
    ),
    BrokenIDL(
      "struct Foo {\n  1: = 5\n}",
      "bad.thrift:2:6: error: expected a type, found '='"
    ),
    BrokenIDL(
      "struct Foo {\n  1: i32\n}",
      "bad.thrift:3:1: error: expected field name after type 'i32', found '}'"
    ),
    BrokenIDL(
      "const string S = \"abc\n",
      "bad.thrift:1:18: error: unterminated string literal"
    ),
    BrokenIDL(
      "struct A {}\n/* never closed\nstruct B {}",
      "bad.thrift:2:1: error: unterminated comment"
    ),
    BrokenIDL(
      "enum E {\n  X = 3000000000\n}",
      "bad.thrift:2:7: error: enum value 3000000000 for 'X' does not fit in i32"
    ),
    BrokenIDL(
      "enum E { A = 2147483647, B }",
      "bad.thrift:1:26: error: enum value 2147483648 for 'B' does not fit in i32"
    ),
    BrokenIDL(
      "struct Foo {\n  1: i32 a\n  1: i32 b\n}",
      "bad.thrift:3:3: error: duplicate field id 1 in struct 'Foo' (first used by 'a' at line 2)"
    ),
    BrokenIDL(
      "struct Foo {\n  1: i32 a\n  2: string a\n}",
      "bad.thrift:3:13: error: duplicate field name 'a' in struct 'Foo' "
        + "(first declared at line 2)"
    ),
    BrokenIDL(
      "struct Foo {\n  -1: i32 a\n  i32 b\n}",
      "bad.thrift:3:7: error: duplicate field id -1 in struct 'Foo' (first used by 'a' at line 2)"
    ),
    BrokenIDL(
      "struct A {}\n\nenum A { X }",
      "bad.thrift:3:6: error: duplicate definition 'A' (first defined at line 1)"
    ),
    BrokenIDL(
      "enum E { A, B, A }",
      "bad.thrift:1:16: error: duplicate case 'A' in enum 'E' (first declared at line 1)"
    ),
    BrokenIDL(
      "service S {\n  void f()\n  i32 f(1: i32 a)\n}",
      "bad.thrift:3:7: error: duplicate function 'f' in service 'S' (first declared at line 2)"
    ),
    BrokenIDL(
      "service S { void f(1: i32 a, 1: i32 b) }",
      "bad.thrift:1:30: error: duplicate parameter id 1 in function 'f' "
        + "(first used by 'a' at line 1)"
    ),
    BrokenIDL(
      "struct Foo {\n  1: i32 service\n}",
      "bad.thrift:2:10: error: 'service' is a reserved word and cannot be used as a field name"
    ),
    BrokenIDL(
      "struct string {}",
      "bad.thrift:1:8: error: 'string' is a reserved word and cannot be used as a struct name"
    ),
    BrokenIDL(
      "enum E { list }",
      "bad.thrift:1:10: error: 'list' is a reserved word and cannot be used as an enum case name"
    ),
    BrokenIDL(
      "struct A {}\ninclude \"b.thrift\"",
      "bad.thrift:2:1: error: 'include' must come before all definitions"
    ),
    BrokenIDL(
      "const i64 X = 9223372036854775808",
      "bad.thrift:1:15: error: integer 9223372036854775808 does not fit in i64"
    ),
    BrokenIDL(
      "const i64 X = 0x10000000000000000",
      "bad.thrift:1:15: error: integer 0x10000000000000000 does not fit in i64"
    ),
    BrokenIDL(
      "const i32 X = 0xZ",
      "bad.thrift:1:15: error: expected hexadecimal digits after '0x'"
    ),
    BrokenIDL(
      "struct A { 1: i32 a @ }",
      "bad.thrift:1:21: error: unexpected character '@'"
    ),
    BrokenIDL(
      "struct A {\u{200B}}",
      "bad.thrift:1:11: error: unexpected character U+200B"
    ),
    BrokenIDL(
      #"const string S = "a\qb""#,
      #"bad.thrift:1:20: error: unknown escape sequence '\q' in string literal"#
    ),
    BrokenIDL(
      #"const string S = "\u12G4""#,
      #"bad.thrift:1:19: error: expected 4 hexadecimal digits after '\u' in string literal"#
    ),
    BrokenIDL(
      #"const string S = "\uD83D""#,
      #"bad.thrift:1:19: error: unpaired surrogate in '\u' escape in string literal"#
    ),
    BrokenIDL(
      "service S {\n  oneway i32 f()\n}",
      "bad.thrift:2:3: error: oneway function 'f' must return void, not 'i32'"
    ),
    BrokenIDL(
      "service S {\n  oneway void f() throws (1: E e)\n}",
      "bad.thrift:2:3: error: oneway function 'f' cannot throw exceptions"
    ),
    BrokenIDL(
      "const i32 X 5",
      "bad.thrift:1:13: error: expected '=' after constant name 'X', found integer 5"
    ),
    BrokenIDL(
      "const string S =",
      "bad.thrift:1:17: error: expected a constant value, found end of file"
    ),
    BrokenIDL(
      "foo",
      "bad.thrift:1:1: error: expected a definition (typedef, enum, const, struct, union, "
        + "exception or service), found 'foo'"
    ),
    BrokenIDL(
      "struct A { 40000: i32 a }",
      "bad.thrift:1:12: error: field id 40000 does not fit in i16"
    ),
    BrokenIDL(
      "struct A { 1 i32 a }",
      "bad.thrift:1:14: error: expected ':' after field id 1, found 'i32'"
    ),
    BrokenIDL(
      "typedef map<string i32> M",
      "bad.thrift:1:20: error: expected ',' after map key type 'string', found 'i32'"
    ),
    BrokenIDL(
      "typedef list<i32 L",
      "bad.thrift:1:18: error: expected '>' after list element type 'i32', found 'L'"
    ),
    BrokenIDL(
      "typedef i32 T (a = \"b\"",
      "bad.thrift:1:23: error: expected an annotation name or ')', found end of file"
    ),
    BrokenIDL(
      "service S { void f(1: i32 a }",
      "bad.thrift:1:29: error: expected ')' to close parameters of function 'f', found '}'"
    ),
    BrokenIDL(
      "service S {\n  void f()\n",
      "bad.thrift:3:1: error: expected '}' to close service 'S', found end of file"
    ),
    BrokenIDL(
      "struct \"abc\" {}",
      "bad.thrift:1:8: error: expected struct name after 'struct', found string \"abc\""
    ),
    BrokenIDL(
      "enum E { A = \"x\" }",
      "bad.thrift:1:14: error: expected an integer value for enum case 'A', found string \"x\""
    ),
    BrokenIDL(
      "enum E { A = 1.5 }",
      "bad.thrift:1:14: error: expected an integer value for enum case 'A', found double 1.5"
    ),
    BrokenIDL(
      "struct a.b {}",
      "bad.thrift:1:8: error: struct name 'a.b' must not contain '.'"
    ),
    BrokenIDL(
      "struct A { 1: void a }",
      "bad.thrift:1:15: error: expected a type, found 'void'"
    ),
    BrokenIDL(
      "service S extends {}",
      "bad.thrift:1:19: error: expected a service name after 'extends', found '{'"
    ),
    BrokenIDL(
      "struct A [",
      "bad.thrift:1:10: error: expected '{' to open struct 'A', found '['"
    ),
    BrokenIDL(
      "const list<i32> L = [1, 2",
      "bad.thrift:1:26: error: expected ']' to close list constant, found end of file"
    ),
    BrokenIDL(
      "const map<i32, i32> M = {1 2}",
      "bad.thrift:1:28: error: expected ':' after map key, found integer 2"
    ),
    BrokenIDL(
      "namespace go",
      "bad.thrift:1:13: error: expected a namespace name after 'namespace go', found end of file"
    ),
    BrokenIDL(
      "include base",
      "bad.thrift:1:9: error: expected a file path in quotes after 'include', found 'base'"
    ),
    BrokenIDL(
      "typedef list<i32> cpp_type vector L",
      "bad.thrift:1:28: error: expected a C++ type in quotes after 'cpp_type', found 'vector'"
    ),
    BrokenIDL(
      "const double D = 1e999",
      "bad.thrift:1:18: error: double 1e999 is out of range"
    ),
    BrokenIDL(
      "struct A {\n  1: i32 a\n  \"a very long string that goes on and on and on and on\"\n}",
      "bad.thrift:3:3: error: expected '}' to close struct 'A', "
        + "found string \"a very long string that goes on and on a…\""
    ),
  ]

  @Test(arguments: brokenInputs)
  func reportsErrorsWithLocations(_ input: BrokenIDL) {
    #expect(parseError(input.source) == input.error)
  }

  @Test func typeNestingIsCapped() {
    let depth = ThriftParser.maximumNestingDepth + 1
    let source =
      "typedef " + String(repeating: "list<", count: depth) + "i32"
      + String(repeating: ">", count: depth) + " Deep"
    let column = 9 + 5 * depth
    #expect(
      parseError(source)
        == "bad.thrift:1:\(column): error: types are nested more than 64 levels deep"
    )
  }

  @Test func constantNestingIsCapped() {
    let source = "const list<i32> X = " + String(repeating: "[", count: 100_000)
    #expect(
      parseError(source)
        == "bad.thrift:1:86: error: constant values are nested more than 64 levels deep"
    )
  }

  @Test func errorsDescribeStringsReadably() {
    #expect(
      parseError("struct A { 1: i32 a \"line\none\" }")
        == #"bad.thrift:1:21: error: expected '}' to close struct 'A', found string "line\none""#
    )
  }

  // MARK: - Robustness

  /// Every prefix of a valid file, and many random edits of it, either parse or throw; none
  /// crashes or hangs.
  @Test func neverCrashesOnDamagedInput() {
    let sample = Array(
      """
      include "base.thrift"
      namespace swift demo
      /** Doc. */
      enum E { A = 1, B (x = "y"), C = 0x7f }
      const map<string, list<i32>> M = {"a": [1, -2, 3.5e1], 'b': []}
      struct S { 1: required list<map<string, E>> (a.b = "c") f = [], -2: optional i64 g = E.A; }
      union U { 1: string s }
      exception X { 1: string why }
      service Svc extends base.Base {
        oneway void ping(), E get(1: S s) throws (1: X x) (idempotent)
      }
      """.unicodeScalars
    )
    for end in 0...sample.count {
      var text = String.UnicodeScalarView()
      text.append(contentsOf: sample[0..<end])
      _ = parseError(String(text))
    }
    let alphabet = Array("{}()[]<>,;:=*&\"'/\\#.-+0x9eE aZ_\n\u{0}é".unicodeScalars)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func random(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    for _ in 0..<2_000 {
      var mutated = sample
      for _ in 0..<(1 + random(4)) {
        let position = random(mutated.count)
        switch random(3) {
        case 0: mutated[position] = alphabet[random(alphabet.count)]
        case 1: mutated.insert(alphabet[random(alphabet.count)], at: position)
        default: mutated.remove(at: position)
        }
      }
      var text = String.UnicodeScalarView()
      text.append(contentsOf: mutated)
      _ = parseError(String(text))
    }
  }

  // MARK: - Demo IDL

  /// The repository root; `#filePath` may be a symlink in a scratch package, so resolve it.
  private static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  private static func parseDemo(_ name: String) throws -> ThriftDocument {
    let url = root.appending(path: "demo/idl/\(name)")
    let source = try String(contentsOf: url, encoding: .utf8)
    return try ThriftParser.parse(source: source, path: "demo/idl/\(name)")
  }

  @Test func demoBaseThrift() throws {
    let document = try Self.parseDemo("base.thrift")
    #expect(document.includes.isEmpty)
    #expect(
      document.namespaces == [
        Namespace(scope: "go", name: "base"), Namespace(scope: "py", name: "base"),
      ]
    )
    #expect(document.definitions.map(\.name) == ["Base", "BaseResp"])
    let base = try document.structNamed("Base")
    #expect(base.kind == .struct)
    #expect(base.fields.map(\.id) == [1, 2, 3])
    #expect(base.fields.map(\.name) == ["LogID", "Caller", "Extra"])
    #expect(base.fields.map(\.type) == [.string, .string, .map(key: .string, value: .string)])
    #expect(base.fields.map(\.requiredness) == [.default, .default, .optional])
    #expect(base.fields.map(\.defaultValue) == [.string(""), .string(""), nil])
    let response = try document.structNamed("BaseResp")
    #expect(response.fields.map(\.name) == ["StatusMessage", "StatusCode", "Extra"])
    #expect(response.fields.map(\.type) == [.string, .i32, .map(key: .string, value: .string)])
    #expect(response.fields[1].defaultValue == .int(0))
  }

  @Test func demoExampleThrift() throws {
    let document = try Self.parseDemo("example.thrift")
    #expect(document.includes.map(\.path) == ["base.thrift"])
    #expect(document.namespaces.map(\.name) == ["example", "example"])
    #expect(
      document.definitions.map(\.name) == [
        "ExampleRequest", "ExampleResponse", "ExampleService",
      ]
    )
    let request = try document.structNamed("ExampleRequest")
    #expect(request.fields.map(\.id) == [1, 2, 3, 255])
    #expect(request.fields.map(\.name) == ["Name", "ID64", "ID32", "Base"])
    #expect(request.fields.map(\.type.description) == ["string", "i64", "i32", "base.Base"])
    let response = try document.structNamed("ExampleResponse")
    #expect(response.fields.map(\.id) == [1, 255])
    #expect(response.fields.last?.type.description == "base.BaseResp")
    let service = try document.serviceNamed("ExampleService")
    #expect(service.extends == nil)
    #expect(service.functions.count == 1)
    let visit = try #require(service.functions.first)
    #expect(visit.name == "Visit")
    #expect(visit.returnType?.description == "ExampleResponse")
    #expect(visit.parameters.map(\.name) == ["req"])
    #expect(visit.parameters.first?.type.description == "ExampleRequest")
    #expect(visit.exceptions.isEmpty)
  }
}
