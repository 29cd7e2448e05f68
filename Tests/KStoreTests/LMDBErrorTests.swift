import Foundation
import Testing

@testable import KStore

/// `LMDBError.Code`: named codes matched by name (`==`, `switch`, `catch Code.x`), the text of
/// the error unchanged (it prints the number), and real LMDB failures arriving under their names.
@Suite struct LMDBErrorTests {
    @Test func theDescriptionPrintsTheOperationLMDBsTextTheNumberAndTheRemedy() {
        #expect(
            LMDBError(code: .mapFull, operation: "mdb_put(events)").description
                == "mdb_put(events) failed: MDB_MAP_FULL: Environment mapsize limit reached (LMDB code -30792)")
        #expect(
            LMDBError(code: .readersFull, operation: "mdb_txn_begin(read)").description
                == "mdb_txn_begin(read) failed: MDB_READERS_FULL: Environment maxreaders limit reached (LMDB code -30790); "
                + "too many processes are reading the store at once; retry shortly")
        #expect(
            LMDBError(code: .accessDenied, operation: "mdb_env_open(/s)").description
                == "mdb_env_open(/s) failed: Permission denied (LMDB code 13); check that this OS user owns the store directory")
        #expect(LMDBError(code: .noSpace, operation: "x").remedy == "the disk is full; free space and retry")
        for code: LMDBError.Code in [.versionMismatch, .invalid] {
            #expect(LMDBError(code: code, operation: "x").remedy == "the files are not an LMDB store of a version this kstore reads")
        }
        for code: LMDBError.Code in [.corrupted, .pageNotFound] {
            #expect(
                LMDBError(code: code, operation: "x").remedy == "the store's files are damaged; restore from a backup (`kstore backup`)")
        }
        #expect(LMDBError(code: .keyExists, operation: "x").remedy == nil)
    }

    /// The numbers LMDB and the system give these codes (the description prints them).
    @Test func theNamedCodesAreLMDBsAndTheSystemsNumbers() {
        let pinned: [(LMDBError.Code, Int32)] = [
            (.keyExists, -30799), (.notFound, -30798), (.pageNotFound, -30797), (.corrupted, -30796),
            (.panic, -30795), (.versionMismatch, -30794), (.invalid, -30793), (.mapFull, -30792),
            (.dbsFull, -30791), (.readersFull, -30790), (.tlsFull, -30789), (.txnFull, -30788),
            (.cursorFull, -30787), (.pageFull, -30786), (.mapResized, -30785), (.incompatible, -30784),
            (.badReaderSlot, -30783), (.badTxn, -30782), (.badValueSize, -30781), (.badDBI, -30780),
            (.accessDenied, EACCES), (.noSpace, ENOSPC), (.ioError, EIO), (.readOnlyFS, EROFS),
            (.noSuchFile, ENOENT), (.noMemory, ENOMEM), (.invalidArgument, EINVAL),
        ]
        for (code, number) in pinned { #expect(code.rawValue == number) }
        #expect(Set(pinned.map(\.0)).count == pinned.count)
    }

    @Test func codesMatchByNameInASwitchACatchAndAgainstARawReturnCode() {
        func kind(_ code: LMDBError.Code) -> String {
            switch code {
            case .mapFull: "full"
            case .mapResized: "resized"
            case .notFound, .keyExists: "key"
            default: "other"
            }
        }
        #expect(kind(.mapFull) == "full")
        #expect(kind(.mapResized) == "resized")
        #expect(kind(.keyExists) == "key")
        #expect(kind(LMDBError.Code(rawValue: -30798)) == "key")
        #expect(kind(.panic) == "other")

        func caught(_ error: LMDBError) -> String {
            do {
                throw error
            } catch LMDBError.Code.mapFull {
                return "full"
            } catch let e as LMDBError where e.code == .mapResized {
                return "resized"
            } catch {
                return "other"
            }
        }
        #expect(caught(LMDBError(code: .mapFull, operation: "x")) == "full")
        #expect(caught(LMDBError(code: .mapResized, operation: "x")) == "resized")
        #expect(caught(LMDBError(code: .badTxn, operation: "x")) == "other")
        #expect(!(LMDBError.Code.mapFull ~= (StoreError.notFound(path: "x") as any Error)))

        let rc: Int32 = -30792
        #expect(LMDBError.Code.mapFull ~= rc)
        #expect(!(LMDBError.Code.notFound ~= rc))
    }

    @Test func realFailuresArriveUnderTheirNames() throws {
        // mdb_env_open in a directory that does not exist: the system's ENOENT.
        let missing = temporaryStorePath() + "/absent"
        do {
            _ = try Environment(path: missing, mapSize: 1 << 20)
            Issue.record("expected mdb_env_open to fail")
        } catch {
            #expect(error.code == .noSuchFile, "\(error)")
            #expect(error.description.hasPrefix("mdb_env_open(\(missing)) failed: "))
        }
        // A second put of a key with noOverwrite: MDB_KEYEXIST.
        try withTemporaryLog { log, _ in
            try log.env.write { txn in try txn.put(log.meta, Array("k".utf8), [1], flags: .noOverwrite) }
            do {
                try log.env.write { txn in try txn.put(log.meta, Array("k".utf8), [2], flags: .noOverwrite) }
                Issue.record("expected MDB_KEYEXIST")
            } catch LMDBError.Code.keyExists {
                // expected
            }
        }
    }
}
