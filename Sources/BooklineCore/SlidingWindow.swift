/// An exact sliding-window rate limit: at most `limit` requests in any `window` seconds.
/// Unlike fixed windows it never lets 2x the limit through around a window edge, and unlike
/// GCRA the (limit+1)th request anywhere inside a window is refused. Refused requests are
/// not recorded, so hammering does not extend the wait.
public struct SlidingWindow: Sendable, Equatable {
    public let limit: Int
    public let window: Double

    public init(limit: Int, window: Double) {
        self.limit = limit
        self.window = window
    }

    public struct Decision: Sendable, Equatable {
        public let allowed: Bool
        /// Requests still allowed in the current window after this one.
        public let remaining: Int
        /// Whole seconds until the oldest counted request leaves the window (a slot frees).
        public let resetSeconds: Int
    }

    /// Decides for a request at `now` given earlier accepted request times (ascending), and
    /// returns the times to keep.
    public func decide(hits: [Double], now: Double) -> (decision: Decision, hits: [Double]) {
        var live = Array(hits.drop { $0 <= now - window })
        if live.count < limit {
            live.append(now)
            let reset = Self.ceilSeconds(live[0] + window - now)
            return (Decision(allowed: true, remaining: limit - live.count, resetSeconds: reset), live)
        }
        let freesAt = live[live.count - limit] + window
        return (Decision(allowed: false, remaining: 0, resetSeconds: max(1, Self.ceilSeconds(freesAt - now))), live)
    }

    static func ceilSeconds(_ value: Double) -> Int {
        max(0, Int(value.rounded(.up)))
    }
}

/// The same exact window as `SlidingWindow.decide`, kept incrementally for the in-memory store:
/// amortised O(1) per request however large the limit (an array used as a queue, compacted
/// now and then), and memory only for requests still inside the window.
public struct SlidingWindowLog: Sendable {
    private var times: [Double] = []
    private var start = 0

    public init() {}

    /// Accepted requests still inside the window as of the last hit.
    public var count: Int { times.count - start }
    public var newest: Double? { count > 0 ? times.last : nil }

    public mutating func hit(now: Double, limit: Int, window: Double) -> SlidingWindow.Decision {
        while start < times.count, times[start] <= now - window { start += 1 }
        if start > 64, start * 2 > times.count {
            times.removeFirst(start)
            start = 0
        }
        if count < limit {
            times.append(now)
            return SlidingWindow.Decision(
                allowed: true, remaining: limit - count, resetSeconds: SlidingWindow.ceilSeconds(times[start] + window - now)
            )
        }
        // Over the limit (also after a tier change lowered it): a slot frees when the request
        // `limit` places from the newest leaves the window.
        let freesAt = times[times.count - limit] + window
        return SlidingWindow.Decision(allowed: false, remaining: 0, resetSeconds: max(1, SlidingWindow.ceilSeconds(freesAt - now)))
    }
}
