import Foundation
import Synchronization

/// A small in-process cache whose entries expire after `ttl` seconds. Hot read paths (API key
/// and tenant look-ups on every request) use it; the owning store removes entries on every
/// write, so this instance sees changes at once and other instances within `ttl`.
final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let expires: Date
    }

    private let ttl: TimeInterval
    private let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(ttl: TimeInterval, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func value(for key: Key, now: Date) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func insert(_ value: Value, for key: Key, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, expires: now.addingTimeInterval(ttl))
        }
    }

    func remove(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    func removeAll(whereKey shouldRemove: (Key) -> Bool) {
        entries.withLock { entries in entries = entries.filter { !shouldRemove($0.key) } }
    }

    func removeAll(where shouldRemove: (Value) -> Bool) {
        entries.withLock { entries in entries = entries.filter { !shouldRemove($0.value.value) } }
    }
}
