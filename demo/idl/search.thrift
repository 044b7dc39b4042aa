// The demo mesh's search service: posts matching a query.
include "base.thrift"

namespace go search
namespace py search

struct SearchQueryRequest {
    1: string Query,
    2: i32 Count = 10,
    255: base.Base Base,
}

struct SearchQueryResponse {
    1: list<i64> PostIDs,
    255: base.BaseResp BaseResp,
}

service SearchService {
    SearchQueryResponse Query(1: SearchQueryRequest req)
}
