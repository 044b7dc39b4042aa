// The demo mesh's feed service: a user's home timeline, ranked, with its posts and authors.
include "base.thrift"

namespace go feed
namespace py feed

struct Post {
    1: i64 ID,
    2: i64 AuthorID,
    3: string Text,
}

struct GetFeedRequest {
    1: i64 UserID,
    2: i32 Count = 20,
    255: base.Base Base,
}

struct GetFeedResponse {
    1: list<Post> Posts,
    255: base.BaseResp BaseResp,
}

service FeedService {
    GetFeedResponse GetFeed(1: GetFeedRequest req)
}
