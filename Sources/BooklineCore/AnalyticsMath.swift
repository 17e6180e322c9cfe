/// The figures analytics reports, computed in one place so the rounding is stated once:
/// percentages to one decimal place, half away from zero; money in integer minor units,
/// divided with half-up rounding. A figure with a zero denominator is nil (shown as null).
public enum AnalyticsMath {
    /// booked / total × 100.
    public static func conversionRate(booked: Int, total: Int) -> Double? {
        total == 0 ? nil : percent(Double(booked) / Double(total) * 100)
    }

    /// (revenue − cost) / cost × 100.
    public static func roi(revenueMinor: Int, costMinor: Int) -> Double? {
        costMinor == 0 ? nil : percent(Double(revenueMinor - costMinor) / Double(costMinor) * 100)
    }

    /// cost / booked, in minor units.
    public static func costPerBooked(costMinor: Int, booked: Int) -> Int? {
        booked == 0 ? nil : divideRounded(costMinor, by: booked)
    }

    /// (current − previous) / previous × 100, for week-over-week changes.
    public static func change(current: Double, previous: Double) -> Double? {
        previous == 0 ? nil : percent((current - previous) / previous * 100)
    }

    /// Share of `part` in `whole` as a percentage (outcome breakdowns).
    public static func share(_ part: Int, of whole: Int) -> Double? {
        whole == 0 ? nil : percent(Double(part) / Double(whole) * 100)
    }

    static func percent(_ value: Double) -> Double {
        (value * 10).rounded(.toNearestOrAwayFromZero) / 10
    }

    /// Integer division rounded half up (half away from zero for negatives).
    public static func divideRounded(_ value: Int, by divisor: Int) -> Int {
        precondition(divisor != 0)
        let quotient = value / divisor
        let remainder = value % divisor
        guard remainder != 0 else { return quotient }
        let sameSign = (remainder > 0) == (divisor > 0)
        return 2 * abs(remainder) >= abs(divisor) ? quotient + (sameSign ? 1 : -1) : quotient
    }
}
