import BooklineCore
import Foundation
import Logging

/// An appointment as a calendar event.
public struct CalendarEvent: Sendable, Equatable {
    public let summary: String
    public let description: String
    public let start: Date
    public let end: Date
}

/// A tenant's calendar: busy times to keep free, and events mirroring appointments.
public protocol CalendarDriver: Sendable {
    func busy(from: Date, to: Date) async throws -> [DateInterval]
    /// Creates the event, or updates `existingId`; returns the event's id.
    func upsert(_ event: CalendarEvent, existingId: String?) async throws -> String
    func delete(eventId: String) async throws
}

/// Used when no calendar is connected: nothing is busy, and events are only logged.
struct RecordingCalendarDriver: CalendarDriver {
    let logger: Logger

    func busy(from: Date, to: Date) async throws -> [DateInterval] { [] }

    func upsert(_ event: CalendarEvent, existingId: String?) async throws -> String {
        logger.info("[CALENDAR] recorded (no calendar connected)", metadata: ["start": "\(event.start.formatted(.iso8601))"])
        return existingId ?? "recorded-\(Identifier.make())"
    }

    func delete(eventId: String) async throws {
        logger.info("[CALENDAR] delete recorded (no calendar connected)")
    }
}
