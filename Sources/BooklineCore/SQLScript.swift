/// Splits a migration file into single statements.
///
/// Both drivers prepare one statement at a time (SQLite's `sqlite3_prepare_v2` silently ignores
/// everything after the first `;`), so a file is split here. Semicolons inside quotes,
/// identifiers, comments and PostgreSQL dollar-quoted bodies do not split.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current: [Character] = []
        let chars = Array(script)
        var index = 0

        func flush() {
            let text = String(current).trimmingWhitespace()
            if !text.isEmpty, !isOnlyComments(text) { statements.append(text) }
            current.removeAll(keepingCapacity: true)
        }

        while index < chars.count {
            let char = chars[index]
            let next: Character? = index + 1 < chars.count ? chars[index + 1] : nil
            switch char {
            case "-" where next == "-":
                let end = chars[index...].firstIndex(of: "\n") ?? chars.count
                current.append(contentsOf: chars[index..<end])
                index = end
            case "/" where next == "*":
                let end = findEnd(of: ["*", "/"], in: chars, from: index + 2)
                current.append(contentsOf: chars[index..<end])
                index = end
            case "'", "\"", "`":
                let end = findEnd(of: [char], in: chars, from: index + 1)
                current.append(contentsOf: chars[index..<end])
                index = end
            case "$":
                if let tag = dollarTag(in: chars, at: index) {
                    let end = findEnd(of: tag, in: chars, from: index + tag.count)
                    current.append(contentsOf: chars[index..<end])
                    index = end
                } else {
                    current.append(char)
                    index += 1
                }
            case ";":
                flush()
                index += 1
            default:
                current.append(char)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// Index just past the first occurrence of `terminator` at or after `start`, or the end.
    private static func findEnd(of terminator: [Character], in chars: [Character], from start: Int) -> Int {
        var index = start
        while index + terminator.count <= chars.count {
            if Array(chars[index..<(index + terminator.count)]) == terminator {
                return index + terminator.count
            }
            index += 1
        }
        return chars.count
    }

    /// `$$` or `$tag$` starting at `index`, as PostgreSQL dollar quoting allows.
    private static func dollarTag(in chars: [Character], at index: Int) -> [Character]? {
        var end = index + 1
        while end < chars.count, chars[end] == "_" || chars[end].isLetter || (end > index + 1 && chars[end].isNumber) {
            end += 1
        }
        guard end < chars.count, chars[end] == "$" else { return nil }
        return Array(chars[index...end])
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { line in
            let trimmed = line.trimmingWhitespace()
            return trimmed.isEmpty || trimmed.hasPrefix("--")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (newlines included); cheaper than Foundation's
    /// `trimmingCharacters(in:)`, which matters on per-row paths such as imports.
    public func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
