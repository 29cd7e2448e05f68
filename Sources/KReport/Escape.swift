/// The one place where text becomes markup: every attribute value and every text node of
/// KReport's HTML and SVG passes through here.
public enum Escape {
    /// Text content: `&`, `<`, `>` as entities (and quotes, so the same text is safe anywhere).
    public static func text(_ s: String) -> String { attribute(s) }

    /// An attribute value in double quotes: `&`, `<`, `>`, `"`, `'` as entities.
    public static func attribute(_ s: String) -> String {
        var needs = false
        for u in s.utf8 where u == 0x26 || u == 0x3C || u == 0x3E || u == 0x22 || u == 0x27 {
            needs = true
            break
        }
        guard needs else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
