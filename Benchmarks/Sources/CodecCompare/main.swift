// codec-compare: kstore's hand-written binary codec against swift-protobuf (generated code),
// on the same 200,000 synthetic events. Run in release:
//
//     swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build
//     Benchmarks/.build/release/codec-compare [event count]
//
// Prints median ns/event over 7 runs (after one warm-up; hand and protobuf runs interleaved)
// for decoding and encoding, and bytes/event. Hand bytes are the store's own: the corpus is appended to a temporary LMDB store
// with `EventLog.append` and read back, and the replica of `EventRecord.encodedBody` used for
// the encode timing is checked byte-for-byte against them.
import Foundation
import KClinic
import KStore

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let runs = 7

print("codec-compare: \(count) events, \(runs) runs each (median ns/event, min–max in brackets)")

// MARK: corpus and both encodings

var events = Corpus.make(count: count)
let stored = try StoreCheck.storeAndReadBack(&events)
let hand: [[UInt8]] = events.map(HandCodec.encode)
guard hand == stored else { fatalError("replicated encodedBody layout differs from the store's bytes") }
let proto: [[UInt8]] = try events.map(ProtoCodec.encode)

// MARK: correctness (outside the timings): both decoders give back the source, identically

for i in events.indices {
    let e = events[i]
    let h = try hand[i].withUnsafeBytes { try HandCodec.decodeRecorded($0) }
    let p = try ProtoCodec.decodeRecorded(proto[i])
    guard h == p, h.event == e.event, h.sequence == e.sequence, h.patient == e.stream,
        h.streamVersion == e.streamVersion, h.recordedAtMicros == e.recordedAtMicros,
        h.occurredAt == Timestamp(epochMillis: e.occurredAtMillis, offsetMinutes: e.offsetMinutes),
        h.actor == e.actor, h.osUser == e.osUser,
        withUnsafeBytes(of: h.eventId.uuid, { Array($0) }) == e.eventId
    else { fatalError("round trip differs at event \(i)") }
}

// The same records laid end to end in one buffer, read in place as LMDB hands them out.
func arena(_ records: [[UInt8]]) -> (bytes: [UInt8], ranges: [Range<Int>]) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(records.reduce(0) { $0 + $1.count })
    var ranges: [Range<Int>] = []
    ranges.reserveCapacity(records.count)
    for r in records {
        ranges.append(bytes.count..<(bytes.count + r.count))
        bytes.append(contentsOf: r)
    }
    return (bytes, ranges)
}
let handArena = arena(hand)
let protoArena = arena(proto)

// MARK: decode

let (decodeHand, decodeProto) = try Timing.measure(
    runs: runs, events: count,
    hand: {
        var s = 0
        for r in hand { s &+= try r.withUnsafeBytes { try HandCodec.decodeEvent($0) } }
        return s
    },
    proto: {
        var s = 0
        for r in proto { s &+= try ProtoCodec.decodeEvent(r) }
        return s
    })
let checkHand = try hand.reduce(0) { a, r in a &+ (try r.withUnsafeBytes { try HandCodec.decodeEvent($0) }) }
let checkProto = try proto.reduce(0) { a, r in a &+ (try ProtoCodec.decodeEvent(r)) }
guard checkHand == checkProto else { fatalError("decoders disagree: \(checkHand) vs \(checkProto)") }

let (borrowedHand, borrowedProto) = try Timing.measure(
    runs: runs, events: count,
    hand: {
        try handArena.bytes.withUnsafeBytes { base in
            var s = 0
            for range in handArena.ranges {
                s &+= try HandCodec.decodeEvent(UnsafeRawBufferPointer(rebasing: base[range]))
            }
            return s
        }
    },
    proto: {
        try protoArena.bytes.withUnsafeBytes { base in
            var s = 0
            guard let start = base.baseAddress else { return 0 }
            for range in protoArena.ranges {
                // swift-protobuf takes Data or [UInt8]; wrapping borrowed memory without a copy:
                let data = Data(
                    bytesNoCopy: UnsafeMutableRawPointer(mutating: start + range.lowerBound),
                    count: range.count, deallocator: .none)
                s &+= try ProtoCodec.decodeEvent(data)
            }
            return s
        }
    })

let (recordedHand, recordedProto) = try Timing.measure(
    runs: runs, events: count,
    hand: {
        var s = 0
        for r in hand { s &+= Checksum.of(try r.withUnsafeBytes { try HandCodec.decodeRecorded($0) }) }
        return s
    },
    proto: {
        var s = 0
        for r in proto { s &+= Checksum.of(try ProtoCodec.decodeRecorded(r)) }
        return s
    })

// MARK: encode

let (encodeHand, encodeProto) = try Timing.measure(
    runs: runs, events: count,
    hand: {
        var s = 0
        for e in events {
            let b = HandCodec.encode(e)
            s &+= b.count &+ Int(b[b.count / 2])
        }
        return s
    },
    proto: {
        var s = 0
        for e in events {
            let b = try ProtoCodec.encode(e)
            s &+= b.count &+ Int(b[b.count / 2])
        }
        return s
    })

// MARK: report

func row(_ name: String, _ h: Sample, _ p: Sample) -> String {
    let cell = { (s: Sample) in pad(fmt(s.median), 6, right: true) + " [" + fmt(s.min) + "–" + fmt(s.max) + "]" }
    return pad(name, 46) + pad(cell(h), 20) + pad(cell(p), 20) + pad(fmt(p.median / h.median, 2) + "×", 7, right: true)
}

let handBytes = hand.reduce(0) { $0 + $1.count }
let protoBytes = proto.reduce(0) { $0 + $1.count }
print("")
print(pad("ns/event (median of \(runs))", 46) + pad("hand", 20) + pad("protobuf", 20) + pad("p/h", 7, right: true))
print(String(repeating: "-", count: 93))
print(row("decode → ClinicalEvent (owned [UInt8])", decodeHand, decodeProto))
print(row("decode → ClinicalEvent (borrowed, as LMDB)", borrowedHand, borrowedProto))
print(row("decode → Recorded (full envelope, owned)", recordedHand, recordedProto))
print(row("encode domain → record bytes", encodeHand, encodeProto))
print(String(repeating: "-", count: 93))
print(
    pad("bytes/event (mean, incl. 32-byte hash)", 46) + pad(fmt(Double(handBytes) / Double(count), 1), 20)
        + pad(fmt(Double(protoBytes) / Double(count), 1), 20)
        + pad(fmt(Double(protoBytes) / Double(handBytes), 2) + "×", 7, right: true))
var byType: [EventType: (n: Int, hand: Int, proto: Int)] = [:]
for i in events.indices {
    var t = byType[events[i].event.type] ?? (0, 0, 0)
    t.n += 1
    t.hand += hand[i].count
    t.proto += proto[i].count
    byType[events[i].event.type] = t
}
for type in [EventType.scoreRecorded, .screeningRecorded, .vitalsRecorded, .infusionAdministered] {
    guard let t = byType[type] else { continue }
    let label = "  \(type.rawValue) (\(fmt(100 * Double(t.n) / Double(count)))%)"
    print(
        pad(label, 46) + pad(fmt(Double(t.hand) / Double(t.n), 1), 20) + pad(fmt(Double(t.proto) / Double(t.n), 1), 20)
            + pad(fmt(Double(t.proto) / Double(t.hand), 2) + "×", 7, right: true))
}
print(
    pad("total MB for \(count) events", 46) + pad(fmt(Double(handBytes) / 1e6, 2), 20)
        + pad(fmt(Double(protoBytes) / 1e6, 2), 20))
print("")
print(
    "medians: decode hand \(fmt(decodeHand.median)) ns, protobuf \(fmt(decodeProto.median)) ns;"
        + " borrowed hand \(fmt(borrowedHand.median)) ns, protobuf \(fmt(borrowedProto.median)) ns;"
        + " Recorded hand \(fmt(recordedHand.median)) ns, protobuf \(fmt(recordedProto.median)) ns;"
        + " encode hand \(fmt(encodeHand.median)) ns, protobuf \(fmt(encodeProto.median)) ns")
print("checks: \(count) records byte-identical to EventLog.append's; both decoders round-trip every event; sink \(Timing.sink & 0xFFFF)")
