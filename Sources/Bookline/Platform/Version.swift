public enum BooklineVersion {
    /// Bumped on release; shown by `bookline version` and `/health`.
    public static let current = "0.1.0"
}
