# Most of the grammar in one small file: the fuzzer mutates from here. The repo's own IDL
# files (demo/idl, the tests') are added to the seeds by Fuzz/run.
include "base.thrift"

namespace swift grammar
namespace * grammar

typedef i64 UserID
typedef list<map<string, set<i32>>> Nested

const i32 MAX = 0x7fffffff
const double RATIO = -1.5e3
const list<string> NAMES = ["a", 'b', "c\"d"]
const map<string, i16> SIZES = {"s": 1, "m": 2}

enum Color {
  RED = 1,
  GREEN,
  BLUE = 0x10;
}

/** A doc comment. */
struct Point {
  1: required i32 x = 0
  2: optional i32 y
  3: Color color = Color.BLUE
  4: binary raw
  5: uuid id
  6: Nested nested
  -1: bool negative
  255: base.Base Base
} (annotation = "value")

union Shape {
  1: Point point
  2: list<Point> path
}

exception Oops {
  1: string why
  2: i32 code
}

// A line comment.
service Shapes {
  Shape get(1: UserID id) throws (1: Oops oops)
  oneway void forget(1: i64 id)
  void ping()
}

/* A block comment. */
service MoreShapes extends Shapes {
  map<Color, Point> all(1: set<Color> colors, 2: double scale)
}
