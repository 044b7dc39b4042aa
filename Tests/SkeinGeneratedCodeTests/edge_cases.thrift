/* The generator's hard cases: Swift keywords as names, recursive types, uuid, constants of
   every kind, typedef chains, required fields, inheritance across files. */
include "shared.thrift"

typedef shared.Tag Label
typedef list<Label> Labels
typedef Labels LabelList

const string GREETING = "hi \"there\"\n"
const double PI = 3.14159
const i64 BIG = -9223372036854775808
const bool ON = true
const list<i32> PRIMES = [2, 3, 5, 7]
const set<string> WORDS = ["a", "b"]
const map<string, list<i32>> TABLE = {"x": [1], "y": []}
const shared.Level TOP = shared.Level.HIGHER
const i32 LIMIT_COPY = shared.LIMIT
const shared.Tag DEFAULT_TAG = {"key": "k", "value": "v"}
const uuid NIL_ID = "00000000-0000-0000-0000-000000000000"

/** A struct whose field names are Swift keywords. */
struct class {
  1: string self
  2: i32 func
  3: bool Type
  4: string protocol
  5: i64 in
  6: optional string default
  7: list<string> where
}

/** A tree: recursion through a list and an optional field. */
struct Node {
  1: string name
  2: list<Node> children
  3: optional Node parent
}

/** Recursion through a direct field needs a box. */
struct Chain {
  1: i32 value
  2: optional Chain next
}

union Expr {
  1: i64 literal
  2: Sum sum
  3: Expr negated
}

struct Sum {
  1: Expr left
  2: Expr right
}

struct Everything {
  1: required string id
  2: uuid token
  3: optional uuid maybeToken
  4: shared.Level level = shared.Level.HIGH
  5: LabelList labels
  6: map<shared.Level, set<binary>> byLevel
  7: i32 limit = shared.LIMIT
  8: double ratio = 1
  9: shared.Tag tag = DEFAULT_TAG
  10: list<i32> primes = PRIMES
  11: byte b = -1
  12: map<i32, string> empty = {}
}

exception Oops {
  1: string message
  2: shared.Level level
}

service Derived extends shared.Root {
  Everything get(1: string id, 2: class c) throws (1: Oops oops)
  void nothing()
  oneway void fire(1: Node node)
}
