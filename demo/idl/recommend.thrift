// The demo mesh's recommend service: orders candidate posts for a user.
include "base.thrift"

namespace go recommend
namespace py recommend

struct RankRequest {
    1: i64 UserID,
    2: list<i64> CandidateIDs,
    255: base.Base Base,
}

struct RankResponse {
    1: list<i64> RankedIDs,
    255: base.BaseResp BaseResp,
}

service RecommendService {
    RankResponse Rank(1: RankRequest req)
}
