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
