#ifndef KSTORE_CLMDB_SHIM_H
#define KSTORE_CLMDB_SHIM_H
#include <lmdb.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Exchanges two paths atomically (Linux renameat2 with RENAME_EXCHANGE, which glibc's header
   hides from Swift): how `kstore encrypt` and `kstore key rekey` swap a converted store in. */
static inline int kstore_exchange_paths(const char *a, const char *b) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
}
#endif
