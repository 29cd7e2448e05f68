/// KReport's HTML: a small tree of elements, attributes and text, written out by `render(into:)`,
/// where every attribute value and every text node passes through `Escape` (the one place).
/// Measured against Plot 0.14.0 (which does not escape attribute values and keeps entity-looking
/// text, so every value had to be escaped before it reached Plot) and swift-mustache 2.1.1 for
/// the 1,000-event patient page: Plot's rendering of its node tree took ~59 ms of the 63 ms,
/// a mustache template of the event table ~25 ms; this writer renders the whole page in a few.
indirect enum Body {
    /// `<name a="v" …>children</name>` (void elements such as `br` without a closing tag).
    case element(String, [(String, String)], [Body])
    /// Text, escaped when written.
    case text(String)
    /// Text, escaped when written, with a line-break opportunity (`<wbr>`) after each comma.
    case breakingAfterCommas(String)
    /// Markup produced by KReport's own escaping writers (the chart's `SVG`, the stylesheet).
    case trusted(String)
    /// Nothing.
    case empty

    private static let void: Set<String> = ["br", "meta", "hr", "img", "wbr", "input", "link"]

    /// Writes the node: names and attribute keys are KReport's literals, every value is escaped.
    func render(into out: inout String) {
        switch self {
        case .element(let name, let attributes, let children):
            out += "<"
            out += name
            for (k, v) in attributes {
                out += " "
                out += k
                out += "=\""
                out += Escape.attribute(v)
                out += "\""
            }
            out += ">"
            if Body.void.contains(name) { return }
            for c in children { c.render(into: &out) }
            out += "</"
            out += name
            out += ">"
        case .text(let s): out += Escape.text(s)
        case .breakingAfterCommas(let s):
            // Escaping leaves commas alone, so the escaped text is cut after each of them.
            let escaped = Escape.text(s)
            var start = escaped.startIndex
            while let comma = escaped[start...].firstIndex(of: ",") {
                let next = escaped.index(after: comma)
                out += escaped[start..<next]
                out += "<wbr>"
                start = next
            }
            out += escaped[start...]
        case .trusted(let markup): out += markup
        case .empty: break
        }
    }
}

enum H {
    /// An element with (name, value) attributes and children.
    static func el(_ name: String, _ attributes: [(String, String)] = [], _ children: [Body] = []) -> Body {
        .element(name, attributes, children)
    }

    /// An element holding one text.
    static func el(_ name: String, _ attributes: [(String, String)] = [], text: String) -> Body {
        .element(name, attributes, [.text(text)])
    }

    /// Text, escaped.
    static func t(_ s: String) -> Body { .text(s) }

    /// Markup produced by KReport's own escaping writers (the chart's SVG).
    static func trusted(_ markup: String) -> Body { .trusted(markup) }

    static func table(_ classes: String, headers: [String], rows: [Body]) -> Body {
        el(
            "table", [("class", classes)],
            [
                el("thead", [], [el("tr", [], headers.map { el("th", [("scope", "col")], text: $0) })]),
                el("tbody", [], rows),
            ])
    }

    static func row(_ cells: [Body], _ attributes: [(String, String)] = []) -> Body {
        el("tr", attributes, cells.map { el("td", [], [$0]) })
    }

    static func code(_ s: String) -> Body { el("code", [], text: s) }

    /// Recorded data as JSON text, with a line-break opportunity (`<wbr>`) after each comma so
    /// a narrow column breaks between fields rather than inside a word; the text is unchanged.
    static func json(_ text: String, label: String = "") -> Body {
        el("div", [("class", "json")], label.isEmpty ? [.breakingAfterCommas(text)] : [.text(label), .breakingAfterCommas(text)])
    }

    /// A whole page: one self-contained document, the style inline, no script.
    static func page(
        title: String, css extra: String = "", head: [Body] = [], _ body: [Body], reserving capacity: Int = 1 << 16
    ) -> String {
        var out = "<!DOCTYPE html>"
        out.reserveCapacity(capacity)
        let html = Body.element(
            "html", [("lang", "en")],
            [
                .element(
                    "head", [],
                    [
                        .element("meta", [("charset", "utf-8")], []),
                        .element("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")], []),
                        .element("title", [], [.text(title)]),
                        .element("style", [], [.trusted(Style.css + extra)]),
                    ] + head),
                .element("body", [], body),
            ])
        html.render(into: &out)
        return out
    }

    /// A status word with a shape and a class: colour-blind safe (the shape and the word differ,
    /// not only the colour).
    static func badge(_ kind: String, _ word: String) -> Body {
        let symbol: String
        switch kind {
        case "ok": symbol = "✓"
        case "due": symbol = "●"
        case "overdue": symbol = "▲"
        case "missing": symbol = "✕"
        case "critical": symbol = "‼"
        case "warning": symbol = "⚠"
        case "info": symbol = "ℹ"
        case "late": symbol = "◷"
        case "void": symbol = "⊘"
        default: symbol = "•"
        }
        return el("span", [("class", "badge b-\(kind)")], [el("span", [("aria-hidden", "true")], text: symbol + " "), t(word)])
    }
}

/// The one stylesheet of every report: screen (1280 px and 768 px) and print (A4 and Letter).
enum Style {
    static let css = """
        :root{--ink:#1a1a1a;--muted:#555;--line:#ccc;--bg:#fafafa}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0;padding:16px 20px 32px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:#fff;max-width:1240px}
        h1{font-size:1.5rem;margin:0 0 4px}
        h2{font-size:1.15rem;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #333}
        h3{font-size:1rem;margin:16px 0 6px}
        p{margin:6px 0}
        .sub{color:var(--muted);margin:0 0 12px}
        .sig{border-left:4px solid #0d3c61;background:#f3f7fb;padding:2px 8px;margin:0 0 4px}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px;margin:12px 0;padding:0}
        .facts div{border:1px solid var(--line);border-radius:6px;padding:6px 10px;background:var(--bg);min-width:0}
        .facts dt{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
        .facts dd{margin:0;font-weight:600;font-size:1.05rem;overflow-wrap:anywhere}
        .counts{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0;padding:0;list-style:none}
        .counts li{border:2px solid #333;border-radius:6px;padding:6px 12px;min-width:120px}
        .counts b{display:block;font-size:1.6rem;line-height:1.1}
        .chart{border:1px solid var(--line);border-radius:6px;padding:6px;margin:8px 0}
        .chart svg{display:block;width:100%;max-width:1040px;height:auto}
        .events td:first-child,.events td:nth-child(2){white-space:nowrap}
        .who{font-size:.85em;color:var(--muted)}
        table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:.9rem;table-layout:auto}
        th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word;word-break:normal}
        th{background:#eee;font-weight:600}
        tbody tr:nth-child(even){background:#f7f7f7}
        code,.json{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.92em;overflow-wrap:anywhere;word-break:normal}
        .nowrap{white-space:nowrap}
        .badge{display:inline-block;border-radius:4px;padding:0 6px;font-weight:600;white-space:nowrap;border:1.5px solid}
        .b-ok{color:#1b5e20;border-color:#1b5e20;background:#e8f5e9}
        .b-due{color:#6d4c00;border-color:#8a6500;background:#fff6d6}
        .b-overdue{color:#fff;border-color:#8b0016;background:#b00020}
        .b-missing{color:#8b0016;border-color:#8b0016;background:#fff;border-style:dashed}
        .b-critical{color:#fff;border-color:#5c0010;background:#8b0016}
        .b-warning{color:#6d4c00;border-color:#8a6500;background:#fff6d6}
        .b-info{color:#0d3c61;border-color:#0d3c61;background:#e3f0fb}
        .b-late{color:#5b2d00;border-color:#a04a00;background:#ffe9d6}
        .b-void{color:#444;border-color:#444;background:#eee;border-style:dashed}
        .corr{margin:4px 0 0;padding:4px 8px;border-left:4px solid #a04a00;background:#fff8f0;font-size:.92em}
        .corr.undone{border-left-style:dashed;opacity:.85}
        .voided td{text-decoration:none;background:#f0f0f0}
        .voided .json{text-decoration:line-through}
        .explain li{margin:2px 0}
        .rule{font-weight:700;font-family:ui-monospace,monospace}
        .ok-line{border:2px solid #1b5e20;padding:6px 10px;border-radius:6px;background:#e8f5e9}
        .bad-line{border:2px solid #8b0016;padding:6px 10px;border-radius:6px;background:#fdecee}
        .empty{color:var(--muted);font-style:italic}
        footer{margin-top:24px;color:var(--muted);font-size:.8rem}
        @media (max-width:800px){body{padding:12px;font-size:14px}.chart{padding:2px}.chart svg text{font-size:13px}table{font-size:.84rem}th,td{padding:3px 4px}.events td:nth-child(2){white-space:normal}.facts{grid-template-columns:repeat(auto-fill,minmax(150px,1fr))}}
        @page{size:auto;margin:14mm 11mm 16mm 11mm;@bottom-right{content:"Page " counter(page) " of " counter(pages);font:9pt system-ui,sans-serif;color:#333}@bottom-left{content:"kstore report";font:9pt system-ui,sans-serif;color:#333}}
        @media print{
        body{padding:0;max-width:none;font-size:9.5pt}
        h2{break-after:avoid;margin-top:14pt}
        table{font-size:8.5pt}
        thead{display:table-header-group}
        tr,.corr,.chart,.facts div{break-inside:avoid}
        .chart{border:none;padding:0}
        .chart svg{max-width:none}
        .chart svg text{font-size:13px}
        .facts{grid-template-columns:repeat(4,1fr);gap:4pt}
        .facts div{padding:2pt 6pt}
        .facts dd{font-size:10pt}
        .badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        a{color:inherit;text-decoration:none}
        }
        """
}
