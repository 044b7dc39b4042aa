// The RPC runtime's test service: delays, failures, oneway, and a relay for multi-hop calls.
include "base.thrift"

struct Request {
  1: string text
  /** How long the handler sleeps before answering. */
  2: i32 delayMs
  /** Throw an undeclared error. */
  3: bool fail
  /** Throw the declared exception. */
  4: bool failDeclared
  /** For relay: how many more hops to make. */
  5: i32 hops
  255: base.Base Base
}

struct Response {
  1: string text
  2: string logID
  3: string caller
  /** The handler's remaining budget in milliseconds when it ran; -1 for none. */
  4: i64 remainingMs
  /** Remaining budgets seen at each hop of a relay, first hop first. */
  5: list<i64> hopBudgets
  255: base.BaseResp BaseResp
}

exception Boom {
  1: string why
}

service TestService {
  Response call(1: Request req) throws (1: Boom boom)
  oneway void notify(1: Request req)
  Response relay(1: Request req)
}

/** A service the test server does not serve, for unknown-method calls. */
service OtherService {
  void missing()
}
