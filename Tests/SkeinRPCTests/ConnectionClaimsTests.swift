import SkeinRPC
import Testing

@Suite("Connection claims: a connection never closes idle under a call that holds it")
struct ConnectionClaimsTests {
  @Test("a held connection cannot close idle; once closed it cannot be held")
  func transitions() {
    let claims = ConnectionClaims()
    #expect(claims.claim() && claims.claim() && claims.count == 2)
    #expect(!claims.closeIfUnclaimed())
    claims.release()
    #expect(!claims.closeIfUnclaimed())
    claims.release()
    #expect(claims.closeIfUnclaimed())
    #expect(!claims.claim() && claims.count == 0)
  }

  @Test("racing claims and an idle close: either the close wins before any claim, or none")
  func race() async {
    // Enough rounds to see both orders; few enough not to crowd the suite's start, where
    // other tests' connect tasks wait for the same threads.
    for _ in 0..<300 {
      let claims = ConnectionClaims()
      async let closed = Task.detached { claims.closeIfUnclaimed() }.value
      async let claimed = Task.detached { (0..<4).map { _ in claims.claim() } }.value
      let (wasClosed, claimsMade) = await (closed, claimed)
      if wasClosed {
        // The close came first, so the claims that followed all failed.
        #expect(claimsMade.allSatisfy { !$0 })
      } else {
        #expect(claimsMade.allSatisfy { $0 } && claims.count == 4)
      }
    }
  }
}
