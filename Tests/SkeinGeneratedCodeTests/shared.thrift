// Included by edge_cases.thrift: the plugin generates both together, and names cross files.
namespace swift Shared

enum Level {
  LOW,
  HIGH = 5,
  HIGHER
}

const i32 LIMIT = 10

struct Tag {
  1: string key
  2: optional string value
}

service Root {
  string version()
}
