import BooklineCore
import Foundation
import Mustache

/// This week against last week, figure by figure, with the change in percent; rendered as
/// JSON for clients and as an email-ready HTML page (inline styles, no images or scripts).
struct WeeklyReport: Codable, Sendable, Equatable {
    struct Figure: Codable, Sendable, Equatable {
        let name: String
        let label: String
        /// count, percent, seconds or money (minor units)
        let unit: String
        let current: Double?
        let previous: Double?
        /// (current − previous) / previous × 100; null when previous is 0 or either is null.
        let changePercent: Double?
    }

    let business: String
    let week: Period
    let previousWeek: Period
    let timezone: String
    let currency: String
    let figures: [Figure]

    struct Period: Codable, Sendable, Equatable {
        let from: String
        let to: String
    }

    init(business: String, current: AnalyticsSummary, previous: AnalyticsSummary) {
        self.business = business
        week = Period(from: current.from, to: current.to)
        previousWeek = Period(from: previous.from, to: previous.to)
        timezone = current.timezone
        currency = current.currency
        func figure(_ name: String, _ label: String, _ unit: String, _ value: (AnalyticsSummary) -> Double?) -> Figure {
            let now = value(current), before = value(previous)
            let change = now.flatMap { now in before.flatMap { AnalyticsMath.change(current: now, previous: $0) } }
            return Figure(name: name, label: label, unit: unit, current: now, previous: before, changePercent: change)
        }
        figures = [
            figure("calls", "Calls", "count") { Double($0.totalCalls) },
            figure("booked", "Appointments booked", "count") { Double($0.booked) },
            figure("conversionRate", "Conversion rate", "percent") { $0.conversionRate },
            figure("averageDurationSeconds", "Average call length", "seconds") { $0.averageDurationSeconds.map(Double.init) },
            figure("totalCost", "Call cost", "money") { Double($0.totalCost.amount) },
            figure("costPerBooking", "Cost per booking", "money") { $0.costPerBooking.map { Double($0.amount) } },
            figure("estimatedRevenue", "Estimated revenue", "money") { Double($0.estimatedRevenue.amount) },
            figure("roi", "Return on investment", "percent") { $0.roi },
            figure("messagesSent", "Messages sent", "count") { summary in Double(summary.messages.values.reduce(0) { $0 + $1.sent }) },
        ]
    }

    static let template: MustacheTemplate = {
        // A compile failure here is a bug in the literal below, caught by every report test.
        try! MustacheTemplate(string: html)
    }()

    func html() -> String {
        let rows: [[String: String]] = figures.map { figure in
            [
                "label": figure.label,
                "current": format(figure.current, unit: figure.unit),
                "previous": format(figure.previous, unit: figure.unit),
                "change": figure.changePercent.map { ($0 > 0 ? "+" : "") + String(format: "%.1f%%", $0) } ?? "–",
                "trend": (figure.changePercent ?? 0) > 0 ? "#0a7d32" : (figure.changePercent ?? 0) < 0 ? "#b3261e" : "#555555",
            ]
        }
        return Self.template.render([
            "business": business, "from": week.from, "to": week.to, "previousFrom": previousWeek.from,
            "previousTo": previousWeek.to, "timezone": timezone, "rows": rows,
        ] as [String: Any])
    }

    func format(_ value: Double?, unit: String) -> String {
        guard let value else { return "–" }
        switch unit {
        case "percent": return String(format: "%.1f%%", value)
        case "seconds":
            let seconds = Int(value)
            return seconds >= 60 ? "\(seconds / 60)m \(seconds % 60)s" : "\(seconds)s"
        case "money": return Self.money(Int(value), currency: currency)
        default: return String(Int(value))
        }
    }

    /// Two-decimal currencies with a symbol for the common ones, the ISO code otherwise.
    static func money(_ minor: Int, currency: String) -> String {
        let symbol = ["GBP": "£", "USD": "$", "EUR": "€"][currency]
        let sign = minor < 0 ? "-" : ""
        let amount = String(format: "%d.%02d", abs(minor) / 100, abs(minor) % 100)
        return symbol.map { sign + $0 + amount } ?? "\(sign)\(currency) \(amount)"
    }

    static let html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Weekly report: {{business}}</title></head>
        <body style="margin:0;padding:24px;background:#f5f5f5;font-family:Helvetica,Arial,sans-serif;color:#1d1d1f">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border-radius:8px">
        <tr><td style="padding:24px 24px 8px">
        <h1 style="margin:0 0 4px;font-size:20px">{{business}}: your week with Bookline</h1>
        <p style="margin:0;color:#555555;font-size:14px">{{from}} to {{to}} compared with {{previousFrom}} to {{previousTo}} ({{timezone}})</p>
        </td></tr>
        <tr><td style="padding:16px 24px 24px">
        <table role="presentation" width="100%" cellpadding="8" cellspacing="0" style="border-collapse:collapse;font-size:14px">
        <tr style="border-bottom:1px solid #dddddd;text-align:left"><th>Figure</th><th>This week</th><th>Last week</th><th>Change</th></tr>
        {{#rows}}
        <tr style="border-bottom:1px solid #eeeeee"><td>{{label}}</td><td><strong>{{current}}</strong></td><td>{{previous}}</td><td style="color:{{trend}}">{{change}}</td></tr>
        {{/rows}}
        </table>
        </td></tr>
        </table>
        </body></html>
        """
}

extension WeeklyReport {
    /// Aligned plain text for a terminal.
    func text() -> String {
        var lines = ["\(business): week \(week.from) to \(week.to) vs \(previousWeek.from) to \(previousWeek.to) (\(timezone))", ""]
        let header = "Figure".padding(toLength: 24, withPad: " ", startingAt: 0) + "This week".leftPadded(14) + "Last week".leftPadded(14) + "Change".leftPadded(10)
        lines.append(header)
        for figure in figures {
            let change = figure.changePercent.map { ($0 > 0 ? "+" : "") + String(format: "%.1f%%", $0) } ?? "–"
            lines.append(figure.label.padding(toLength: 24, withPad: " ", startingAt: 0)
                + format(figure.current, unit: figure.unit).leftPadded(14)
                + format(figure.previous, unit: figure.unit).leftPadded(14) + change.leftPadded(10))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension AppServices {
    /// `bookline report weekly`: the tenant's weekly report as text, JSON or HTML.
    public func weeklyReport(tenant: Tenant, date: String?, format: String) async throws -> String {
        let report = try await AnalyticsService(services: self).weekly(tenant: tenant, date: date)
        switch format {
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(report), as: UTF8.self)
        case "html": return report.html()
        default: return report.text()
        }
    }
}
