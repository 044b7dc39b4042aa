// Generated from demo/ by DefaultMeshTests. Do not edit: change demo/ and regenerate with
// SKEIN_REGENERATE=1 swift test --filter DefaultMeshTests
// swift-format-ignore-file

/// The files of the default mesh, by path relative to `demo/`.
enum DefaultMeshFiles {
  static let files: [String: String] = [
"idl/ad.thrift": ##"""
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

"""##,
"idl/base.thrift": ##"""
// The request and response envelope every Skein service carries in field 255.
// The framework reads and fills these: who is calling, the LogID that ties the
// log lines of one request together, and the remaining deadline (in Extra).
namespace go base
namespace py base

struct Base {
    1: string LogID = "",
    2: string Caller = "",
    3: optional map<string, string> Extra,
}

struct BaseResp {
    1: string StatusMessage = "",
    2: i32 StatusCode = 0,
    3: optional map<string, string> Extra,
}

"""##,
"idl/example.thrift": ##"""
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

"""##,
"idl/feed.thrift": ##"""
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

"""##,
"idl/gateway.thrift": ##"""
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

"""##,
"idl/recommend.thrift": ##"""
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

"""##,
"idl/search.thrift": ##"""
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

"""##,
"idl/storage.thrift": ##"""
// The demo mesh's storage service: a key-value store every read ends in.
include "base.thrift"

namespace go storage
namespace py storage

struct StorageGetRequest {
    1: string Key,
    255: base.Base Base,
}

struct StorageGetResponse {
    1: binary Value,
    2: bool Found,
    255: base.BaseResp BaseResp,
}

struct StorageMultiGetRequest {
    1: list<string> Keys,
    255: base.Base Base,
}

struct StorageMultiGetResponse {
    1: map<string, binary> Values,
    255: base.BaseResp BaseResp,
}

service StorageService {
    StorageGetResponse Get(1: StorageGetRequest req)
    StorageMultiGetResponse MultiGet(1: StorageMultiGetRequest req)
}

"""##,
"idl/user.thrift": ##"""
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

"""##,
"mesh.yaml": ##"""
# The default demo mesh: a small social app. `skein mesh check demo/mesh.yaml` validates it.
#
# gateway ─┬─ user ──── storage
#          ├─ feed ─┬── recommend
#          │        ├── storage
#          │        └── user
#          ├─ ad
#          └─ search ── storage
#
# Latencies are a handler's own work (log-normal from p50/p99, in ms), before its calls.
name: social
idl_dir: idl

services:
  gateway:
    idl: {file: gateway.thrift, service: GatewayService}
    clusters: {c1: 2, c2: 2}
    methods:
      Home:
        latency: {p50_ms: 1, p99_ms: 4}
        error_rate: 0.001
        cpu_us: 100
        calls:
          - to: user.GetUser
            timeout_ms: 100
          - parallel:
              - to: feed.GetFeed
                timeout_ms: 300
                balancer: p2c
              - to: ad.GetAds
                timeout_ms: 150
                traffic: {c1: 50, c2: 50}
      Profile:
        latency: {p50_ms: 1, p99_ms: 3}
        error_rate: 0.001
        cpu_us: 80
        calls:
          - parallel:
              - to: user.GetUser
                timeout_ms: 100
              - to: feed.GetFeed
                timeout_ms: 300
                balancer: p2c
      Search:
        latency: {p50_ms: 1, p99_ms: 4}
        error_rate: 0.001
        cpu_us: 100
        calls:
          - to: search.Query
            timeout_ms: 250
          - to: ad.GetAds
            timeout_ms: 150
            traffic: {c1: 50, c2: 50}

  user:
    idl: {file: user.thrift, service: UserService}
    clusters: {c1: 2, c2: 2}
    methods:
      GetUser:
        latency: {p50_ms: 2, p99_ms: 8}
        error_rate: 0.002
        cpu_us: 50
        calls:
          - to: storage.Get
            timeout_ms: 50

  feed:
    idl: {file: feed.thrift, service: FeedService}
    clusters: {c1: 2, c2: 2}
    methods:
      GetFeed:
        latency: {p50_ms: 3, p99_ms: 15}
        error_rate: 0.005
        cpu_us: 300
        calls:
          - to: recommend.Rank
            timeout_ms: 120
            traffic: {c1: 80, c2: 20}
          - parallel:
              - to: storage.MultiGet
                timeout_ms: 80
                balancer: random
              - to: user.GetUser
                timeout_ms: 100

  ad:
    idl: {file: ad.thrift, service: AdService}
    clusters:
      c1: 1
      c2: {instances: 1, weight: 100}
    methods:
      GetAds:
        latency: {p50_ms: 8, p99_ms: 40}
        error_rate: 0.01
        cpu_us: 200

  search:
    idl: {file: search.thrift, service: SearchService}
    clusters: {c1: 2}
    methods:
      Query:
        latency: {p50_ms: 10, p99_ms: 60}
        error_rate: 0.005
        cpu_us: 500
        calls:
          - to: storage.MultiGet
            timeout_ms: 80

  recommend:
    idl: {file: recommend.thrift, service: RecommendService}
    clusters: {c1: 1, c2: 1}
    methods:
      Rank:
        latency: {p50_ms: 6, p99_ms: 30}
        error_rate: 0.003
        cpu_us: 800

  storage:
    idl: {file: storage.thrift, service: StorageService}
    clusters: {c1: 2, c2: 2}
    methods:
      Get:
        latency: {p50_ms: 0.5, p99_ms: 3}
        error_rate: 0.001
        cpu_us: 20
      MultiGet:
        latency: {p50_ms: 1.5, p99_ms: 10}
        error_rate: 0.002
        cpu_us: 60

# The edge load generator: open-loop, so a slow mesh shows as latency, not as less load.
load:
  caller: edge
  rate: 200
  shape: steady
  mix:
    - {to: gateway.Home, weight: 60, timeout_ms: 1000}
    - {to: gateway.Profile, weight: 25, timeout_ms: 1000}
    - {to: gateway.Search, weight: 15, timeout_ms: 1000}

"""##,
  ]
}
