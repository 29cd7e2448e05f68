import Foundation
import KApp
import KClinic
import KStore

/// A fresh store in a unique temporary directory, removed afterwards, with the running OS user
/// as its admin and `import-job` interface, and the fixtures' actors registered.
func withStore<T>(mapSize: Int = EventLog.defaultMapSize, _ body: (ClinicStore) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kstore-app-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try ClinicStore.create(at: dir, mapSize: mapSize)
    try registerTestActors(store)
    return try body(store)
}

func registerTestActors(_ store: ClinicStore) throws {
    try Actors.bootstrap(store)
    let tsv = try String(contentsOf: packageRoot.appendingPathComponent("fixtures/actors.tsv"), encoding: .utf8)
    try Actors.registerFixtureActors(store, tsv: tsv)
}

/// The package root (…/Tests/KAppTests/ → …/).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shared spec's worked example, or the fixture copy of it.
func exampleBytes(_ name: String) throws -> [UInt8] {
    let candidates = [
        packageRoot.appendingPathComponent("fixtures/examples/\(name)").path,
        packageRoot.appendingPathComponent("../shared/spec/examples/\(name)").path,
    ]
    for path in candidates {
        if let d = FileManager.default.contents(atPath: path) { return [UInt8](d) }
    }
    throw CocoaError(.fileNoSuchFile)
}

/// The built executable `name` (swift test builds it beside the test bundle).
func executable(_ name: String) -> String? {
    var dirs: [URL] = []
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
    dirs.append(testBinary.deletingLastPathComponent())
    dirs.append(testBinary.deletingLastPathComponent().deletingLastPathComponent())
    dirs.append(packageRoot.appendingPathComponent(".build/debug"))
    for dir in dirs {
        let p = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a process to completion with optional standard input.
@discardableResult
func run(_ path: String, _ args: [String], stdin: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func line(
    _ type: String, patient: String = "P-1", at: String = "2026-01-05T09:30:00-05:00", actor: String? = nil,
    role: String = "nurse", data: String, id: String? = nil, expected: Int? = nil
) -> String {
    // The fixtures' registered actors: rn.kim (nurse), dr.hale (clinician).
    let actor = actor ?? (role == "clinician" ? "dr.hale" : "rn.kim")
    var s =
        #"{"type":"\#(type)","patient":"\#(patient)","occurredAt":"\#(at)","actor":{"id":"\#(actor)","role":"\#(role)"},"data":\#(data)"#
    if let id { s += #","eventId":"\#(id)""# }
    if let expected { s += #","expectedVersion":\#(expected)"# }
    return s + "}"
}
