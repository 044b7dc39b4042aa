// The demo mesh's edge: the pages a client asks for, each assembled from the services behind.
include "base.thrift"

namespace go gateway
namespace py gateway

struct HomeRequest {
    1: i64 UserID,
    255: base.Base Base,
}

struct HomeResponse {
    1: string Page,
    255: base.BaseResp BaseResp,
}

struct ProfileRequest {
    1: i64 UserID,
    2: i64 ViewerID,
    255: base.Base Base,
}

struct ProfileResponse {
    1: string Page,
    255: base.BaseResp BaseResp,
}

struct SearchRequest {
    1: string Query,
    2: i64 UserID,
    255: base.Base Base,
}

struct SearchResponse {
    1: string Page,
    255: base.BaseResp BaseResp,
}

service GatewayService {
    HomeResponse Home(1: HomeRequest req)
    ProfileResponse Profile(1: ProfileRequest req)
    SearchResponse Search(1: SearchRequest req)
}
