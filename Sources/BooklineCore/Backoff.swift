/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
/// attempt n waits a random time in [0, min(cap, base * 2^n)]. Full jitter spreads retries of
/// many clients that failed together, so they do not stampede the database again at once.
public struct Backoff: Sendable, Equatable {
    public var baseSeconds: Double
    public var capSeconds: Double
    public var maxAttempts: Int

    public init(baseSeconds: Double = 0.05, capSeconds: Double = 2, maxAttempts: Int = 5) {
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
        self.maxAttempts = maxAttempts
    }

    /// Upper bound of the wait before retry number `attempt` (0 = first retry).
    public func ceiling(forAttempt attempt: Int) -> Double {
        let exponent = min(max(attempt, 0), 30)
        return min(capSeconds, baseSeconds * Double(1 << exponent))
    }

    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        Double.random(in: 0...ceiling(forAttempt: attempt), using: &generator)
    }
}
