// The interop corpus's types: every wire type, nested containers, defaults, an old and a new
// version of one struct (for unknown-field skipping), a union, an exception and a service.
// Apache Thrift's compiler generates Python from this same file in the interop test.
// uuid is left out: Debian's python3-thrift (0.17) predates it; unit tests cover it.

namespace py interop

enum Color {
  RED = 1,
  GREEN,
  BLUE = 10
}

typedef list<i32> Numbers

struct Point {
  1: i32 x
  2: i32 y
}

/** Every scalar type, each with a default. */
struct Scalars {
  1: bool flag = true
  2: byte tiny = -7
  3: i16 small = 300
  4: i32 medium = -70000
  5: i64 large = 5000000000
  6: double ratio = 0.25
  7: string text = "héllo"
  8: binary blob
  9: Color color = Color.GREEN
}

struct Containers {
  1: list<i32> numbers
  2: set<string> tags
  3: map<string, i64> counts
  4: list<list<string>> grid
  5: map<i32, list<Point>> paths
  6: set<i64> ids
  7: map<string, map<string, double>> nested
  8: list<Color> colors
  9: Numbers aliased
  10: list<binary> blobs
  11: list<bool> flags
  12: list<double> ratios
  13: map<byte, i16> small
}

struct Optionals {
  1: optional string name
  2: optional i32 count
  3: required string id
  4: optional Point where
  5: optional list<Point> points
}

union Shape {
  1: Point point
  2: double radius
  3: string label
}

struct Drawing {
  1: list<Shape> shapes
  2: Shape main
  3: map<string, Shape> named
}

/** Version 1 of a record, as an old peer knows it. */
struct RecordV1 {
  1: string name
  5: i32 version
}

/** Version 2 adds fields of every type an old peer must skip. */
struct RecordV2 {
  1: string name
  2: bool b
  3: byte i8v
  4: i16 i16v
  5: i32 version
  6: i64 i64v
  7: double d
  8: binary bin
  9: Point point
  10: list<Point> points
  11: set<i32> ints
  12: map<string, list<Point>> deep
  13: list<list<map<i32, string>>> tangled
  14: Shape shape
}

exception Failure {
  1: string reason
  2: i32 code
}

service Echo {
  Drawing draw(1: Drawing drawing, 2: i32 times) throws (1: Failure failure)
  oneway void ping(1: string note)
}
