/// The UK numbering plan behind `PhoneNumber`: which national significant numbers (NSN: the digits after +44 or the
/// trunk 0) Ofcom has allocated, with their length and kind.
///
/// Source: libphonenumber 9.0.43 (Python `phonenumbers`), phonenumbers/data/region_GB.py and the Crown Dependencies
/// that share +44 (region_GG.py Guernsey, region_IM.py Isle of Man, region_JE.py Jersey), whose number patterns are
/// expanded here into blocks of numbers by prefix. Tests/BooklineCoreTests/PhoneFixtureTests.swift checks that Bookline
/// and libphonenumber agree; for a newer libphonenumber, regenerate its fixture and the test shows what changed.
///
/// Each row gives a kind, an NSN length and the prefixes of its blocks, written as digits with `[...]` for one digit
/// of a set (`[0-58]` is 0 to 5 or 8). A number is valid when it starts with a block's prefix and has that block's
/// length. Blocks of one length never overlap, but a prefix may hold blocks of both 9 and 10 digits (the "mixed"
/// areas: 01204 61234 and 01204 612345 are both Bolton numbers).
///
/// Kinds are Bookline's, not libphonenumber's: 03 and 084/087 are `.nonGeographic` (libphonenumber: UAN and premium
/// rate), 055 and 056 `.corporate` (UAN and VoIP).
///
/// 07700 900000–900999 (and 01632 960xxx) are Ofcom's drama numbers: no subscriber has one, libphonenumber treats
/// them as invalid, and so does Bookline. Examples and tests use real-looking ranges such as 07400 1xxxxx instead.
enum UKNumberRanges {
    static let rows: [(kind: PhoneNumber.Kind, length: Int, prefixes: String)] = [
        // 01 and 02, geographic: the area code and the first digits of the local numbers in use there.
        // 02x: 020 London, 023 Southampton and Portsmouth, 024 Coventry, 028 Northern Ireland, 029 Cardiff.
        (.landline, 10, "20[013478] 23[0189] 24[017] 28[0-46-9] 29[0-2]"),
        // 011x (0113 Leeds to 0118 Reading) and 01x1 (0121 Birmingham to 0191 Tyneside) have 7-digit local numbers;
        // the other 01xxx areas mostly 6-digit ones. 01481 is Guernsey, 01534 Jersey, 01624 the Isle of Man; none of
        // 01632 is in use (its 01632 960xxx are Ofcom's drama numbers).
        (.landline, 10, "113[0-58] 11373[0-5] 114[0-5] 11469[7-9] 11470"),
        (.landline, 10, "115[0-26-9] 116[0-4] 1165[01] 117[0-49] 118[0-49]"),
        (.landline, 10, "120[024-9] 121[0-7] 1218[0-3] 122[3-9] 123[3-79] 124[1-689]"),
        (.landline, 10, "125[02-9] 126[0-47-9] 127[013-9] 128[02-9] 129"),
        (.landline, 10, "130 131[0-8] 132[02-9] 133[02-579] 134[0-46-9]"),
        (.landline, 10, "135[02-9] 136[0-46-9] 137[1-35-79] 138[0-46-9] 139[2-578]"),
        (.landline, 10, "140[03-9] 141 142[02-57-9] 143 144[02-69]"),
        (.landline, 10, "145[0-8] 146[0-79] 147 148[02-57-9] 1481[25-9] 149[0-79]"),
        (.landline, 10, "150[1-35-9] 151 152[024-9] 153[015689] 1534[0-24-8] 154[02-9]"),
        (.landline, 10, "155[03-9] 156 157[0-35-9] 158[0-468] 159[0-57-9]"),
        (.landline, 10, "160[034689] 161 162[0-35689] 1624230 1624[5-8] 163[013-9] 164[1-467]"),
        (.landline, 10, "165[0-69] 166[13-9] 167[0-8] 168[013-9] 169[0-24578]"),
        (.landline, 10, "170[0246-9] 172 173[0236-8] 174[03-9]"),
        (.landline, 10, "175[0-46-9] 176[013-9] 177[0-35-9] 178[024-9] 179[02-9]"),
        (.landline, 10, "180[35-9] 182[1-57-9] 183[02-578] 184[0-578]"),
        (.landline, 10, "185[124-9] 186[2-69] 187 188[02-9] 189[02569]"),
        (.landline, 10, "190[02-589] 191 192[02-689] 193[1-57-9] 194[2-9]"),
        (.landline, 10, "195[0-579] 196[2-47-9] 197[0-24578] 198 199[2-57]"),
        // 9 digits: 5-digit local numbers after a 4-digit area code, in the mixed areas, and 4-digit ones after the
        // 5-digit area code 016977 (Brampton).
        (.landline, 9, "12046[1-4] 12087[2-9] 12545[1-79] 12762 12763[1-8] 12766[1-6]"),
        (.landline, 9, "12972[0-4] 12973[2-5] 12982[2-8] 12987[0-47-9] 12988[3-5]"),
        (.landline, 9, "13638[2-5] 13647[23] 13847[04-9] 13864[0157-9]"),
        (.landline, 9, "14044[1-7] 14202[23] 14208 146030 14605[2-57] 14606[1-8] 14607[2-8] 146140 148052 14887[1-3]"),
        (.landline, 9, "15243[2-79] 15246 15276 15626[06-9] 156686"),
        (.landline, 9, "16064 16067[4-79] 16295[5-7] 1635[34] 164724 164761 16595[08] 16596[67] 165974 16955[0-4]"),
        (.landline, 9, "16977[23]"),
        (.landline, 9, "17266[13-9] 17267[0-7] 17442 17502[0-3] 1750[3-68]2 175076 17688"),
        (.landline, 9, "1827[56] 18375[2-5] 18378[239] 18843[2-58]"),
        (.landline, 9, "19006[1-8] 190085 19052 193583 19466[1-8] 19492[01] 194981 196323 19633[1-4] 199561"),

        // 03: non-geographic numbers charged like geographic ones.
        (.nonGeographic, 10, "30 33 34 37"),
        // 055 corporate numbering, 056 location-independent (VoIP).
        (.corporate, 10, "55 56"),

        // 07: mobiles, but 070 is personal numbering and 076 pagers, except 07624 (Isle of Man mobiles, bar 07624 7
        // and most of 07624 5). Not in use: 07700 2, 07700 4 to 6, 07700 9, 07911 3 to 6 and 07911 9.
        (.personal, 10, "70"),
        (.mobile, 10, "7[1-58] 7624[0-4689] 76245[06] 7700[01378] 770[1-9] 77[1-9] 79[02-9] 791[02-9] 7911[0-278]"),
        // Bookline's deliberate difference (see the top): 07700 90.
        (.pager, 10, "760[0-28] 762[356] 7634 764[01347] 76464 765[49] 766[0-369] 76652 7677 768[14] 769[139]"),

        // 08: 0800 and 0808 freephone (0800 also with 6-digit numbers, and 0800 1111, Childline); 0842 to 0845 and
        // 0870 to 0873 are non-geographic (0845 4647, NHS Direct, with 7 digits).
        (.freephone, 10, "800 808"),
        (.freephone, 9, "800"),
        (.freephone, 7, "8001111"),
        (.nonGeographic, 10, "84[2-5] 87[0-3]"),
        (.nonGeographic, 7, "845464"),

        // 09: premium rate.
        (.premium, 10, "90 91 98[0-49]"),
    ]

    /// A block of NSNs: one set of allowed digits (a bit per digit) for each position of the prefix.
    struct Block: Sendable {
        let kind: PhoneNumber.Kind
        let length: Int
        let prefix: [UInt16]

        /// Whether `digits` and the prefix agree where both have a digit.
        func agrees(with digits: [Int]) -> Bool {
            zip(prefix, digits).allSatisfy { allowed, digit in allowed & 1 << digit != 0 }
        }
    }

    static let blocks: [Block] = rows.flatMap { row in
        row.prefixes.split(separator: " ").map { Block(kind: row.kind, length: row.length, prefix: digitSets($0)) }
    }

    /// `"12[58][0-24]"` → the digit sets {1}, {2}, {5, 8}, {0, 1, 2, 4}.
    static func digitSets(_ pattern: Substring) -> [UInt16] {
        var sets: [UInt16] = []
        var open: UInt16?  // the set being read, inside [...]
        var last = 0, range = false
        for character in pattern {
            switch character {
            case "[": open = 0
            case "]": sets.append(open ?? 0); open = nil
            case "-": range = true
            default:
                guard let digit = character.wholeNumberValue else { preconditionFailure("UK number range \(pattern)") }
                guard let set = open else { sets.append(1 << digit); continue }
                open = (range ? last...digit : digit...digit).reduce(set) { $0 | 1 << $1 }
                last = digit
                range = false
            }
        }
        return sets
    }

    /// The kind of a UK NSN, or why it is not one: the wrong length for the blocks it falls in (or starts), or in no block.
    static func kind(of nsn: String) -> Result<PhoneNumber.Kind, PhoneNumber.Problem> {
        let digits = nsn.compactMap(\.wholeNumberValue)
        if let block = blocks.first(where: { $0.length == digits.count && $0.agrees(with: digits) }) {
            return .success(block.kind)
        }
        return blocks.contains { $0.agrees(with: digits) } ? .failure(.invalidLength) : .failure(.notAllocated)
    }
}
