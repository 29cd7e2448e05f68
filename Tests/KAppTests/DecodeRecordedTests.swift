import Foundation
import KApp
import KClinic
import KStore
import Testing

/// `EventMapping.decodeView` / `decodeRecorded`: the one place a stored record's bytes become a
/// view or an envelope, every failure a `StoreError.corrupt` naming the sequence.
@Suite struct DecodeRecordedTests {
    @Test func storedBytesDecodeAsTheScanDecodesThem() throws {
        try withStore { (store: ClinicStore) throws in
            _ = try Importer(store: store).importNDJSON(try exampleBytes("w1.ndjson"), source: "w1")
            var viaScan: [Recorded] = []
            try store.log.scan { view in
                viaScan.append(try EventMapping.recorded(view))
                return true
            }
            var viaBytes: [Recorded] = []
            var names: [String] = []
            try store.log.scanRaw { seq, bytes in
                viaBytes.append(try EventMapping.decodeRecorded(bytes, sequence: seq, cipher: nil))
                let view = try EventMapping.decodeView(bytes, sequence: seq, names: false, cipher: nil)
                #expect(view.sequence == seq)
                names.append(view.actorId)
                return true
            }
            #expect(!viaBytes.isEmpty)
            #expect(viaBytes == viaScan)
            // Without names the actor id is skipped (left empty).
            #expect(names.allSatisfy { $0.isEmpty })
        }
    }

    @Test func bytesThatAreNoRecordAreCorruptAtTheirSequence() {
        let garbage: [UInt8] = [0x01, 0xFF, 0xFF]
        garbage.withUnsafeBytes { buf in
            for attempt in [
                { () throws -> Void in _ = try EventMapping.decodeView(buf, sequence: 42, cipher: nil) },
                { () throws -> Void in _ = try EventMapping.decodeRecorded(buf, sequence: 42, cipher: nil) },
            ] {
                do {
                    try attempt()
                    Issue.record("garbage decoded")
                } catch let StoreError.corrupt(sequence, detail) {
                    #expect(sequence == 42)
                    #expect(!detail.isEmpty)
                    // One wrapping: the detail is the reader's, not another corrupt-record sentence.
                    #expect(!detail.contains("cannot be read"))
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
        }
    }
}
