import Foundation

/// URL-safe tenant slugs: "Smile & Co. Dental" -> "smile-co-dental".
public enum Slug {
    public static let maxLength = 48

    public static func make(from name: String) -> String {
        var slug = ""
        var pendingDash = false
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) {
                if pendingDash, !slug.isEmpty { slug.append("-") }
                pendingDash = false
                slug.append(Character(scalar).lowercased())
            } else {
                pendingDash = true
            }
            if slug.count >= maxLength { break }
        }
        // Leave room for a "-NN" uniqueness suffix and never end on a dash.
        while slug.count > maxLength || slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "business" : slug
    }

    /// `base` if free, else `base-2`, `base-3`, ...
    public static func firstFree(base: String, taken: Set<String>) -> String {
        guard taken.contains(base) else { return base }
        var suffix = 2
        while taken.contains("\(base)-\(suffix)") { suffix += 1 }
        return "\(base)-\(suffix)"
    }
}
