import Foundation
import Glibc
import KApp
import KClinic
import KStore
import Testing

/// Issue 11 item 10: an import reads its file in chunks and appends each line as it is read,
/// in one transaction; the report of bad lines is what it was when the file was held whole.
@Suite struct ImportStreamingTests {
    func vitals(_ i: Int, patient: String? = nil) -> String {
        line(
            "VitalsRecorded", patient: patient ?? "P-\(i % 7)", at: "2026-01-05T09:\(String(format: "%02d", i % 60)):00-05:00",
            data: #"{"systolic":\#(100 + i % 100),"diastolic":70,"heartRate":\#(40 + i % 150)}"#)
    }

    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-ndjson-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    @Test func linesSpanningChunksCRLFBlankLinesAndALastLineWithoutNewline() throws {
        try withStore { (store: ClinicStore) throws in
            let base = try store.log.count()
            // ~3 MiB: lines cross the 1 MiB chunk boundaries; one line (JSON whitespace inside
            // the object) is longer than a chunk; CRLF endings, blank and blank-looking lines.
            var text = ""
            var events = 0
            var i = 0
            while text.utf8.count < 3 << 20 {
                text += vitals(i) + (i % 3 == 0 ? "\r\n" : "\n")
                if i % 1000 == 0 { text += "\n \t\r\n" }
                if i == 4000 {
                    text += "{" + String(repeating: " ", count: 1_500_000) + String(vitals(i).dropFirst()) + "\r\n"
                    events += 1
                }
                events += 1
                i += 1
            }
            text += vitals(i)  // no newline at the end
            events += 1
            let path = try temporaryFile(Array(text.utf8))
            defer { unlink(path) }
            let s = try Importer(store: store).importNDJSON(file: path)
            #expect(s.imported + s.duplicates == events)
            #expect(s.imported > 0 && s.firstSequence == base + 1)
            #expect(try store.log.count() == base + UInt64(s.imported))
            #expect(try LogAudit.verify(store).ok)
            // The same bytes held whole: all duplicates.
            #expect(try Importer(store: store).importNDJSON(Array(text.utf8), source: "again").duplicates == events)
        }
    }

    @Test func lineNumbersCountEveryLineAcrossChunks() throws {
        try withStore { (store: ClinicStore) throws in
            let base = try store.log.count()
            var lines = (0..<20_000).map { vitals($0) }
            lines[5] = ""
            lines[15_000] = #"{"type":"VitalsRecorded"}"#
            lines[19_998] = "not json"
            let path = try temporaryFile(Array(lines.joined(separator: "\r\n").utf8))
            defer { unlink(path) }
            let e = try #require(throws: AppError.self) { _ = try Importer(store: store).importNDJSON(file: path) }
            #expect(e.exitCode == 65)
            let report = e.description.split(separator: "\n")
            #expect(report.count == 2)
            #expect(report[0].hasPrefix("\(path):15001: "), "\(report)")
            #expect(report[1].hasPrefix("\(path):19999: "), "\(report)")
            #expect(try store.log.count() == base)
        }
    }

    @Test func badLinesAfterTheStoresRefusalAreStillReportedAndCounted() throws {
        try withStore { (store: ClinicStore) throws in
            let base = try store.log.count()
            var lines = (0..<200).map { vitals($0) }
            // The store refuses line 11 (a retired-looking unknown actor: exit 77 alone) …
            lines[10] = line("ScoreRecorded", actor: "rn.nobody", data: #"{"instrument":"MADRS","value":5}"#)
            let importer = Importer(store: store)
            let alone = try #require(throws: AppError.self) {
                _ = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "f")
            }
            #expect(alone.exitCode == 77)
            #expect(alone.description.hasPrefix("f:11: "), "\(alone.description)")
            #expect(alone.description.hasSuffix("; nothing of f was written"), "\(alone.description)")
            // … and with 60 unparsable lines after it, every bad line is reported: the refusal
            // first, then the parse errors, 50 listed and the rest counted (exit 65).
            for k in 0..<60 { lines[100 + k] = #"{"type":"Nope"}"# }
            let many = try #require(throws: AppError.self) {
                _ = try importer.importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "f")
            }
            #expect(many.exitCode == 65)
            guard case .badInput(let listed) = many else {
                Issue.record("expected bad input, got \(many)")
                return
            }
            #expect(listed.count == 51)
            #expect(listed[0].description.hasPrefix("f:11: actor "), "\(listed[0])")
            #expect(listed[1].description.hasPrefix("f:101: "), "\(listed[1])")
            #expect(listed[49].description.hasPrefix("f:149: "), "\(listed[49])")
            #expect(listed[50].description == "f: and 11 more bad lines; nothing was imported")
            #expect(try store.log.count() == base)
        }
    }

    @Test func duplicatesWithinTheFileAndAcrossFilesAreSkipped() throws {
        try withStore { (store: ClinicStore) throws in
            let base = try store.log.count()
            let lines = (0..<50).map { vitals($0) } + (0..<50).map { vitals($0) }
            let s = try Importer(store: store).importNDJSON(Array(lines.joined(separator: "\n").utf8), source: "d")
            #expect(s == ImportSummary(imported: 50, duplicates: 50, firstSequence: base + 1, lastSequence: base + 50))
        }
    }

    @Test func aPipeIsSpooledSoAFullMapCanStartTheTransactionOver() throws {
        // From a 32 KiB map every growth aborts the transaction and runs it again from the first
        // line; a pipe cannot be read twice, so its bytes come back from the spool.
        try withStore(mapSize: 32 << 10) { (store: ClinicStore) throws in
            let base = try store.log.count()
            let text = Array((0..<3000).map { vitals($0, patient: "P-\($0 % 40)") }.joined(separator: "\n").utf8)
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            let (readEnd, writeEnd) = (fds[0], fds[1])
            let writer = Thread {
                text.withUnsafeBytes { buf in
                    var off = 0
                    while off < buf.count {
                        let n = write(writeEnd, buf.baseAddress.map { $0 + off }, buf.count - off)
                        if n <= 0 { break }
                        off += n
                    }
                }
                close(writeEnd)
            }
            writer.start()
            defer { close(readEnd) }
            let s = try Importer(store: store).importNDJSON(descriptor: readEnd, source: "-")
            #expect(s.imported + s.duplicates == 3000)
            #expect(store.log.env.mapSize > 32 << 10)
            #expect(try store.log.count() == base + UInt64(s.imported))
            #expect(try LogAudit.verify(store).ok)
            // Nothing left beside the store: the spool was unlinked at once.
            let names = try FileManager.default.contentsOfDirectory(atPath: store.path)
            #expect(names.allSatisfy { !$0.contains("spool") }, "\(names)")
        }
    }
}
