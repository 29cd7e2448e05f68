import Plot

/// Plot's nodes with KReport's escaping: Plot 0.14.0 writes attribute values as given and its
/// text escaping keeps anything that looks like an entity (`&amp;` stays `&amp;`), which would
/// show an auditor "&" where "&amp;" was recorded. So every value goes through `Escape` here and
/// reaches Plot as already-escaped markup; Plot builds and closes the elements.
typealias Body = Node<HTML.BodyContext>

enum H {
    /// An element with (name, value) attributes and children.
    static func el(_ name: String, _ attributes: [(String, String)] = [], _ children: [Body] = []) -> Body {
        var nodes: [Body] = attributes.map { .attribute(named: $0.0, value: Escape.attribute($0.1), ignoreIfValueIsEmpty: false) }
        nodes += children
        return .element(named: name, nodes: nodes)
    }

    /// An element holding one text.
    static func el(_ name: String, _ attributes: [(String, String)] = [], text: String) -> Body {
        el(name, attributes, [t(text)])
    }

    /// Text, escaped.
    static func t(_ s: String) -> Body { .raw(Escape.text(s)) }

    /// Markup produced by KReport's own escaping writers (the chart's SVG).
    static func trusted(_ markup: String) -> Body { .raw(markup) }

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

    /// A whole page: one self-contained document, the style inline, no script.
    static func page(title: String, css extra: String = "", _ body: [Body]) -> String {
        let html = HTML(
            .head(
                .element(named: "meta", nodes: [Node<HTML.HeadContext>.attribute(named: "charset", value: "utf-8")]),
                .element(
                    named: "meta",
                    nodes: [
                        Node<HTML.HeadContext>.attribute(named: "name", value: "viewport"),
                        .attribute(named: "content", value: "width=device-width, initial-scale=1"),
                    ]),
                .element(named: "title", nodes: [Node<HTML.HeadContext>.raw(Escape.text(title))]),
                .element(named: "style", nodes: [Node<HTML.HeadContext>.raw(Style.css + extra)])
            ),
            .body(.group(body))
        )
        return html.render()
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
        code,.json{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.82rem;overflow-wrap:anywhere;word-break:break-all}
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
        .corr{margin:4px 0 0;padding:4px 8px;border-left:4px solid #a04a00;background:#fff8f0;font-size:.85rem}
        .corr.undone{border-left-style:dashed;opacity:.85}
        .voided td{text-decoration:none;background:#f0f0f0}
        .voided .json{text-decoration:line-through}
        .explain li{margin:2px 0}
        .rule{font-weight:700;font-family:ui-monospace,monospace}
        .ok-line{border:2px solid #1b5e20;padding:6px 10px;border-radius:6px;background:#e8f5e9}
        .bad-line{border:2px solid #8b0016;padding:6px 10px;border-radius:6px;background:#fdecee}
        .empty{color:var(--muted);font-style:italic}
        footer{margin-top:24px;color:var(--muted);font-size:.8rem}
        @media (max-width:800px){body{padding:12px;font-size:14px}table{font-size:.84rem}th,td{padding:3px 4px}.events td:nth-child(2){white-space:normal}.facts{grid-template-columns:repeat(auto-fill,minmax(150px,1fr))}}
        @page{size:auto;margin:14mm 11mm 16mm 11mm;@bottom-right{content:"Page " counter(page) " of " counter(pages);font:9pt system-ui,sans-serif;color:#333}@bottom-left{content:"kstore report";font:9pt system-ui,sans-serif;color:#333}}
        @media print{
        body{padding:0;max-width:none;font-size:9.5pt}
        h2{break-after:avoid;margin-top:14pt}
        table{font-size:8.5pt}
        thead{display:table-header-group}
        tr,.corr,.chart,.facts div{break-inside:avoid}
        .chart{border:none;padding:0}
        .badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        a{color:inherit;text-decoration:none}
        }
        """
}
