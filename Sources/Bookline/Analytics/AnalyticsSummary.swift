import BooklineCore
import Foundation

/// What `GET /api/analytics/summary` answers: figures for a range of the tenant's local days.
/// Percentages have one decimal (half away from zero); money is integer minor units; a figure
/// whose denominator is zero is null.
struct AnalyticsSummary: Codable, Sendable, Equatable {
    struct Money: Codable, Sendable, Equatable {
        let amount: Int
        let currency: String
    }

    struct OutcomeCount: Codable, Sendable, Equatable {
        let outcome: String
        let count: Int
        let percent: Double?
    }

    struct ReasonCount: Codable, Sendable, Equatable {
        let endedReason: String
        let count: Int
    }

    struct Day: Codable, Sendable, Equatable {
        let date: String
        let calls: Int
        let booked: Int
        let conversionRate: Double?
        let cost: Int
    }

    struct Funnel: Codable, Sendable, Equatable {
        let new: Int
        let contacted: Int
        let interested: Int
        let booked: Int
    }

    struct ChannelCounts: Codable, Sendable, Equatable {
        var queued = 0
        var sent = 0
        var delivered = 0
        var failed = 0
        var blocked = 0
        var simulated = 0
    }

    let from: String
    let to: String
    let timezone: String
    let currency: String
    /// Ended calls (in-progress ones are counted apart).
    let totalCalls: Int
    let inProgressCalls: Int
    let byOutcome: [OutcomeCount]
    let unknownEndedReasons: [ReasonCount]
    let conversionRate: Double?
    let averageDurationSeconds: Int?
    let totalCost: Money
    let costPerBooking: Money?
    let estimatedRevenue: Money
    let roi: Double?
    let daily: [Day]
    let funnel: Funnel
    let messages: [String: ChannelCounts]

    var booked: Int { byOutcome.first { $0.outcome == CallOutcome.booked.rawValue }?.count ?? 0 }

    /// Sums the per-day cells into the summary's figures.
    static func make(days: [LocalDay], zone: String, settings: CallSettings, cells: [AnalyticsStore.CallCell],
                     unknown: [(String, Int)], leads: [(LeadStatus, Int, Int)],
                     messages: [(MessageChannel, MessageStatus, Int)]) -> AnalyticsSummary {
        let ended = cells.filter { $0.outcome != nil }
        let total = ended.reduce(0) { $0 + $1.calls }
        var byOutcome: [CallOutcome: Int] = [:]
        for cell in ended { byOutcome[cell.outcome!, default: 0] += cell.calls }
        let booked = byOutcome[.booked] ?? 0
        let cost = cells.reduce(0) { $0 + $1.costMinor }
        let timed = ended.reduce(0) { $0 + $1.timedCalls }
        let duration = ended.reduce(0) { $0 + $1.durationSeconds }
        let revenue = booked * settings.averageDealValueMinor
        let currency = settings.currency
        let daily = days.enumerated().map { index, day in
            let dayCells = ended.filter { $0.day == index }
            let calls = dayCells.reduce(0) { $0 + $1.calls }
            let dayBooked = dayCells.filter { $0.outcome == .booked }.reduce(0) { $0 + $1.calls }
            return Day(date: day.date, calls: calls, booked: dayBooked,
                       conversionRate: AnalyticsMath.conversionRate(booked: dayBooked, total: calls),
                       cost: cells.filter { $0.day == index }.reduce(0) { $0 + $1.costMinor })
        }
        return AnalyticsSummary(
            from: days.first?.date ?? "", to: days.last?.date ?? "", timezone: zone, currency: currency,
            totalCalls: total,
            inProgressCalls: cells.filter { $0.outcome == nil }.reduce(0) { $0 + $1.calls },
            byOutcome: CallOutcome.allCases.map {
                OutcomeCount(outcome: $0.rawValue, count: byOutcome[$0] ?? 0, percent: AnalyticsMath.share(byOutcome[$0] ?? 0, of: total))
            },
            unknownEndedReasons: unknown.map { ReasonCount(endedReason: $0.0, count: $0.1) },
            conversionRate: AnalyticsMath.conversionRate(booked: booked, total: total),
            averageDurationSeconds: timed == 0 ? nil : AnalyticsMath.divideRounded(duration, by: timed),
            totalCost: Money(amount: cost, currency: currency),
            costPerBooking: AnalyticsMath.costPerBooked(costMinor: cost, booked: booked).map { Money(amount: $0, currency: currency) },
            estimatedRevenue: Money(amount: revenue, currency: currency),
            roi: AnalyticsMath.roi(revenueMinor: revenue, costMinor: cost),
            daily: daily,
            funnel: funnel(leads),
            messages: channels(messages)
        )
    }

    /// Leads created in the range that reached each stage (by where they are now).
    static func funnel(_ leads: [(LeadStatus, Int, Int)]) -> Funnel {
        var new = 0, contacted = 0, interested = 0, booked = 0
        for (status, count, everContacted) in leads {
            new += count
            contacted += status.marksContact ? count : everContacted
            if [.interested, .callback, .booked].contains(status) { interested += count }
            if status == .booked { booked += count }
        }
        return Funnel(new: new, contacted: contacted, interested: interested, booked: booked)
    }

    /// sent counts every message a provider accepted (sent, delivered, undelivered); failed
    /// counts failed and undelivered; queued includes those being sent.
    static func channels(_ rows: [(MessageChannel, MessageStatus, Int)]) -> [String: ChannelCounts] {
        var result = Dictionary(uniqueKeysWithValues: MessageChannel.allCases.map { ($0.rawValue, ChannelCounts()) })
        for (channel, status, count) in rows {
            var counts = result[channel.rawValue] ?? ChannelCounts()
            switch status {
            case .queued, .sending: counts.queued += count
            case .sent: counts.sent += count
            case .delivered: counts.sent += count; counts.delivered += count
            case .undelivered: counts.sent += count; counts.failed += count
            case .failed: counts.failed += count
            case .blocked: counts.blocked += count
            case .simulated: counts.simulated += count
            case .received: break
            }
            result[channel.rawValue] = counts
        }
        return result
    }
}
