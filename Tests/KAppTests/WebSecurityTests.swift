import Foundation
import Testing

/// Issue 13: the real server on loopback, checked from outside (tools/web-security-check.py):
/// every route without a session and with the wrong role, CSRF, lockout, idle expiry, a retired
/// actor's session, 16 MiB bodies, a slow client, TLS with HTTP/2, web.md's headers, no path or
/// stack trace in any answer, the API's documents equal to the CLI's, signatures, and
/// schemathesis against docs/openapi.json. The script prints each failure by name.
@Suite(.serialized) struct WebSecurityTests {
    @Test func theServerRefusesWhatWebMdRefusesAndAnswersAsItsDocumentSays() throws {
        let kstore = try #require(executable("kstore"), "the kstore executable is not built")
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let python = path.map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("python3 is not installed: run tools/setup.sh")
            return
        }
        let script = packageRoot.appendingPathComponent("tools/web-security-check.py").path
        let r = try run(python, [script, "--kstore", kstore])
        #expect(r.status == 0, "the server's security checks failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(" 0 failure(s)"), "\(r.stdout)")
    }

    /// The OpenAPI document served is the one kept in the repository.
    @Test func theServedDocumentIsTheRepositorysOwn() throws {
        let r = try run("/bin/bash", [packageRoot.appendingPathComponent("tools/embed-openapi.sh").path, "--check"])
        #expect(
            r.status == 0, "Sources/KServer/OpenAPIDocument.swift differs from docs/openapi.json: run tools/embed-openapi.sh\n\(r.stderr)")
    }
}
