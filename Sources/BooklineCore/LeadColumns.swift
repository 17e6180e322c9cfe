/// The lead fields an import understands, and the column names (CSV headers or JSON keys)
/// people use for them. Matching ignores case, spaces, dashes, dots and underscores.
public enum LeadField: String, Sendable, CaseIterable {
    case name, firstName = "first_name", lastName = "last_name", phone, email, source, tags, notes

    static let aliases: [LeadField: [String]] = [
        .name: ["name", "fullname", "contactname", "customername", "customer", "contact"],
        .firstName: ["firstname", "forename", "givenname", "first"],
        .lastName: ["lastname", "surname", "familyname", "last"],
        .phone: ["phone", "phonenumber", "mobile", "mobilenumber", "mobilephone", "cell", "cellphone", "telephone",
                 "tel", "telephonenumber", "number", "phonee164", "contactnumber"],
        .email: ["email", "emailaddress", "mail"],
        .source: ["source", "leadsource", "origin", "channel"],
        .tags: ["tags", "tag", "labels"],
        .notes: ["notes", "note", "comments", "comment"],
    ]

    private static let byKey: [String: LeadField] = {
        var map: [String: LeadField] = [:]
        for (field, names) in aliases { for name in names { map[name] = field } }
        return map
    }()

    /// `"E-mail Address"` → `.email`; nil for a column that is not a known field.
    public static func match(_ column: String) -> LeadField? {
        byKey[key(column)]
    }

    public static func key(_ column: String) -> String {
        String(column.lowercased().unicodeScalars.filter { !" -_.\t\u{FEFF}".unicodeScalars.contains($0) }.map(Character.init))
    }
}
