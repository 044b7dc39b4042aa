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
