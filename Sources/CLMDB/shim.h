#ifndef KSTORE_CLMDB_SHIM_H
#define KSTORE_CLMDB_SHIM_H
#include <lmdb.h>
#endif
