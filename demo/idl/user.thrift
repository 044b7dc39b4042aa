// The demo mesh's user service: profiles by id, read by the gateway and the feed.
include "base.thrift"

namespace go user
namespace py user

struct User {
    1: i64 ID,
    2: string Name,
    3: string AvatarURL,
}

struct GetUserRequest {
    1: i64 UserID,
    255: base.Base Base,
}

struct GetUserResponse {
    1: User User,
    255: base.BaseResp BaseResp,
}

service UserService {
    GetUserResponse GetUser(1: GetUserRequest req)
}
