import Foundation
import HTTPTypes
import Hummingbird
import KApp
import KClinic
import NIOCore

/// Each request's context: who sent it, once the authentication middleware knows.
struct WebContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var principal: Principal?

    init(source: Source) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Bodies over 16 MiB are refused (413) as they arrive, never read whole (web.md).
    var maxUploadSize: Int { WebLimits.maxBody }
}

enum WebLimits {
    static let maxBody = 16 << 20
    /// Forms and JSON bodies other than an import: far smaller.
    static let maxForm = 1 << 20
}

/// A refusal with its HTTP status and one sentence (never a stack trace or a path).
struct WebError: Error {
    var status: HTTPResponse.Status
    var sentence: String
    /// For 422 of an import: every refused line.
    var lineErrors: [LineError] = []

    init(_ status: HTTPResponse.Status, _ sentence: String, lineErrors: [LineError] = []) {
        self.status = status
        self.sentence = sentence
        self.lineErrors = lineErrors
    }

    static func badRequest(_ s: String) -> WebError { WebError(.badRequest, s) }
    static let notSignedIn = WebError(.unauthorized, "sign in first: this needs a session or a bearer token")
    static func forbidden(_ s: String) -> WebError { WebError(.forbidden, s) }

    /// An `AppError` as the API reports it: the CLI's sentence, the status its exit code maps to.
    /// Paths of the server's machine are cut from sentences (the CLI shows them to the operator;
    /// a browser must not see them).
    static func from(_ error: any Error, store: String) -> WebError {
        switch error {
        case let e as WebError: return e
        case let e as AppError:
            let sentence = scrub(e.description, store: store)
            switch e {
            case .badInput(let lines): return WebError(.unprocessableContent, sentence, lineErrors: lines)
            case .notPermitted: return WebError(.forbidden, sentence)
            case .conflict: return WebError(.conflict, sentence)
            case .usage: return WebError(.badRequest, sentence)
            default: return WebError(.internalServerError, "the server could not do this; it is logged on the server (nothing was written)")
            }
        default:
            return WebError(.internalServerError, "the server could not do this; it is logged on the server (nothing was written)")
        }
    }

    static func scrub(_ s: String, store: String) -> String {
        s.replacingOccurrences(of: store, with: "STORE")
    }
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var out: [UInt8] = []
        JSONWriter.writeLine(value, into: &out)
        return jsonBytes(out, status: status)
    }

    static func jsonBytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func error(_ e: WebError) -> Response {
        if e.status == .unprocessableContent && !e.lineErrors.isEmpty {
            return json(
                .object([
                    (
                        "errors",
                        .array(
                            e.lineErrors.map { l in
                                .object([
                                    ("line", l.line.map { .int(Int64($0)) } ?? .null), ("field", l.field.map { .string($0) } ?? .null),
                                    ("message", .string(l.description)),
                                ])
                            })
                    )
                ]), status: e.status)
        }
        return json(.object([("error", .string(e.sentence))]), status: e.status)
    }
}

extension Request {
    /// A query parameter, percent-decoded; nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let v = uri.queryParameters[Substring(name)], !v.isEmpty else { return nil }
        return String(v)
    }

    /// `path?query` as received (for the access log and the sign-in page's `next`).
    var pathAndQuery: String {
        uri.query.map { uri.path + "?" + $0 } ?? uri.path
    }

    /// The value of cookie `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix(name + "=") { return String(kv.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }
}

extension HTTPField.Name {
    /// Names HTTPTypes has no constant for (each a valid token, so the fallback is never taken).
    static let csrfToken = named("X-CSRF-Token")
    static let xFrameOptions = named("X-Frame-Options")
    static let referrerPolicy = named("Referrer-Policy")

    private static func named(_ s: String) -> HTTPField.Name {
        HTTPField.Name(s) ?? .cacheControl
    }
}
