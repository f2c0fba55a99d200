/// Bounds an operation in time: the operation is cancelled when the limit passes. Used around
/// calls to billing providers, whose answers (and the bodies of them) must not hold a request, or
/// a session's claim, longer than the claim lasts.
public enum Deadline {
    public static func run<T: Sendable>(
        within limit: Duration, onTimeout: @Sendable () -> any Error, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw onTimeout() }
            return value
        }
    }
}
