// The seed service: one method that greets its caller.
include "base.thrift"

namespace go example
namespace py example

struct ExampleRequest {
    1: string Name,
    2: i64 ID64,
    3: i32 ID32,
    255: base.Base Base,
}

struct ExampleResponse {
    1: string Resp,
    255: base.BaseResp BaseResp,
}

service ExampleService {
    ExampleResponse Visit(1: ExampleRequest req)
}
