// The demo mesh's ad service: the ads shown beside a page.
include "base.thrift"

namespace go ad
namespace py ad

struct Ad {
    1: i64 ID,
    2: string Title,
    3: string TargetURL,
}

struct GetAdsRequest {
    1: i64 UserID,
    2: string Placement,
    3: i32 Count = 3,
    255: base.Base Base,
}

struct GetAdsResponse {
    1: list<Ad> Ads,
    255: base.BaseResp BaseResp,
}

service AdService {
    GetAdsResponse GetAds(1: GetAdsRequest req)
}
