/// A small SVG writer: elements, attributes and text, every attribute value and every text
/// node escaped by `Escape` (the one place). The chart's markup is built only through it.
struct SVG {
    private(set) var out: String = ""
    private var stack: [String] = []

    init(reserving capacity: Int = 1 << 14) { out.reserveCapacity(capacity) }

    /// `<name a="v" …>` (closed by `close()`).
    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        start(name, attributes)
        out += ">"
        stack.append(name)
    }

    /// `<name a="v" …/>`.
    mutating func leaf(_ name: String, _ attributes: [(String, String)]) {
        start(name, attributes)
        out += "/>"
    }

    /// `<name a="v" …>text</name>`.
    mutating func element(_ name: String, _ attributes: [(String, String)], text: String) {
        start(name, attributes)
        out += ">"
        out += Escape.text(text)
        out += "</" + name + ">"
    }

    /// `<name …><title>tooltip</title></name>`: a shape with its tooltip.
    mutating func shape(_ name: String, _ attributes: [(String, String)], title: String) {
        start(name, attributes)
        out += "><title>"
        out += Escape.text(title)
        out += "</title></" + name + ">"
    }

    mutating func close() {
        guard let name = stack.popLast() else { return }
        out += "</" + name + ">"
    }

    /// The document, every open element closed.
    mutating func finish() -> String {
        while !stack.isEmpty { close() }
        return out
    }

    private mutating func start(_ name: String, _ attributes: [(String, String)]) {
        out += "<" + name
        for (k, v) in attributes {
            out += " " + k + "=\""
            out += Escape.attribute(v)
            out += "\""
        }
    }

    /// A coordinate with at most one decimal.
    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        if r == r.rounded() { return String(Int(r)) }
        return String(r)
    }
}
