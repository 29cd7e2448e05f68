import KStore

/// The master-key operations the command offers (`kstore key …`), with KStore's key errors
/// turned into cli.md's exit codes (`AppError(KeyError)`).
public enum MasterKeys {
    /// Creates a new master key file (owner-only, never overwriting) and returns its key id.
    public static func generate(out path: String) throws(AppError) -> String {
        do { return try MasterKey.create(at: path).id } catch { throw AppError(error) }
    }

    /// Wraps the data key of `store` (opened with the key in `oldFile`) with the key in
    /// `newFile`; returns the old and new key ids.
    public static func rotate(_ store: ClinicStore, oldFile: String, newFile: String) throws(AppError) -> (old: String, new: String) {
        guard store.log.isEncrypted, let current = store.log.masterKeyId else {
            throw .usage("the store at \(store.path) is not encrypted; `kstore encrypt --key-file FILE` encrypts it")
        }
        do {
            let oldKey = try MasterKey.load(path: oldFile, store: store.path)
            let newKey = try MasterKey.load(path: newFile, store: store.path)
            guard newKey.id != oldKey.id else {
                throw AppError.usage(
                    "\(newFile) holds the master key (key id \(current)) that wraps the store already; nothing was changed")
            }
            try store.log.rewrapDataKey(from: oldKey, oldPath: oldFile, to: newKey)
            return (current, newKey.id)
        } catch let e as AppError {
            throw e
        } catch let e as KeyError {
            throw AppError(e)
        } catch {
            throw .internal("the key rotation failed, and the store was not changed: \(error)")
        }
    }
}
