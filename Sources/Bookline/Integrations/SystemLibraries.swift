import CArgon2
import CCurl

/// Versions of the C libraries Bookline links (libcurl for SMTP, libargon2 for passwords).
public enum SystemLibraries {
    public static var versions: [(String, String)] {
        let curlVersion = curl_version().map { String(cString: $0) } ?? "unknown"
                // Calls into libargon2 so a missing library fails here, not at first login.
        let argon2 = String(cString: argon2_error_message(ARGON2_OK.rawValue))
        return [("libcurl", curlVersion), ("libargon2", "0x" + String(ARGON2_VERSION_NUMBER.rawValue, radix: 16) + " (\(argon2))")]
    }
}
