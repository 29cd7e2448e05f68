import Foundation
import Testing

/// Issue 12: a real browser renders the reports. tools/report-screenshots.py builds a store from
/// the fixtures, writes every report with the built `kstore`, and has headless Chromium take
/// screenshots at 1280 and 768 px, print Letter and A4 PDFs, and report any element wider than
/// the viewport and any console error. The PNGs and PDFs stay under .build/report-browser.
@Suite(.serialized) struct ReportBrowserTests {
    static let artefacts = packageRoot.appendingPathComponent(".build/report-browser")

    static var script: String { packageRoot.appendingPathComponent("tools/report-screenshots.py").path }

    /// Runs the script; a missing Chromium (exit 69) or python3 is one failure saying what to do.
    static func screenshots(_ args: [String]) throws -> RunResult? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let python = path.map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("python3 is not installed: run tools/setup.sh")
            return nil
        }
        let r = try run(python, [script] + args)
        if r.status == 69 {
            Issue.record(
                "Chromium is not installed, so the reports cannot be rendered in a browser: run tools/setup.sh (as root in CI). \(r.stderr)"
            )
            return nil
        }
        return r
    }

    @Test func reportsRenderInChromiumWithoutOverflowOrConsoleErrors() throws {
        let kstore = try #require(executable("kstore"), "the kstore executable is not built")
        let out = Self.artefacts.appendingPathComponent("reports").path
        guard let r = try Self.screenshots(["--kstore", kstore, "--out", out]) else { return }
        print("report screenshots and PDFs: \(out)")
        #expect(r.status == 0, "the browser check failed:\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 failure(s)"), "\(r.stdout)")
        for name in ["patient-C1", "today", "trail-W2", "rems-E1", "dispensing"] {
            for width in [1280, 768] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)-\(width).png"), "no screenshot \(name)-\(width).png")
            }
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name).pdf"), "no Letter PDF of \(name)")
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)-a4.pdf"), "no A4 PDF of \(name)")
        }
    }

    /// The check can fail: a page with an element wider than either viewport, and a page whose
    /// script throws, are each reported at both widths.
    @Test func theCheckCatchesAnOverflowingPageAndAConsoleError() throws {
        let dir = Self.artefacts.appendingPathComponent("negative")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let wide = dir.appendingPathComponent("too-wide.html")
        try Data(
            #"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>too wide</title></head><body><p>fits</p><div style="width:1500px">wider than 1280 px</div></body></html>"#
                .utf8
        ).write(to: wide)
        let broken = dir.appendingPathComponent("script-error.html")
        try Data(
            #"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>error</title></head><body><p>fits</p><script>noSuchFunction();</script></body></html>"#
                .utf8
        ).write(to: broken)
        guard let r = try Self.screenshots(["--check", wide.path, broken.path, "--out", dir.path]) else { return }
        print("negative browser check: \(dir.path)")
        #expect(r.status == 1, "the check passed a page that overflows and one that throws:\n\(r.stdout)")
        #expect(r.stdout.contains("FAIL too-wide @1280"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL too-wide @768"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL script-error @1280"), "\(r.stdout)")
        #expect(r.stdout.contains("noSuchFunction"), "\(r.stdout)")
        #expect(!r.stdout.contains("ok   too-wide"), "\(r.stdout)")
    }
}
