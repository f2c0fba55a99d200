extension Migration {
    /// An organization's own wording of the hosted pages and emails, by language and phrase
    /// (issue 16). Its default language and click-to-cancel switch came with `0007_flows`.
    static let languages = Migration(name: "0009_languages") { _ in
        ["ALTER TABLE flow_settings ADD COLUMN texts TEXT"]
    }
}
