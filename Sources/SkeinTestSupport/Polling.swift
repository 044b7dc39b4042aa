/// Checks `condition` every `interval` until it holds or `timeout` passes, and says whether it
/// held: the one way the tests wait for something a mesh does on its own time.
public func waitUntil(
  timeout: Duration,
  every interval: Duration = .milliseconds(200),
  _ condition: () async throws -> Bool
) async throws -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try await Task.sleep(for: interval)
  }
  return try await condition()
}
