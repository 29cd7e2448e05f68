// swift-tools-version:6.0
import PackageDescription

// Measurements kept out of the main package so that its dependency graph (and the shipped
// binary) never sees swift-protobuf or SQLite. Build and run in release:
//
//     swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build
//     Benchmarks/.build/release/codec-compare
//     Benchmarks/.build/release/kstore-bench --help     (tools/bench.sh runs it with defaults)
let package = Package(
    name: "kstore-benchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kstore-bench", targets: ["KStoreBench"]),
        .executable(name: "codec-compare", targets: ["codec-compare"]),
    ],
    dependencies: [
        .package(name: "kstore", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        // The PostgreSQL peer (`kstore-bench --postgres URL`): the client `kstore ship` uses.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The hand-written codec (as stored) against swift-protobuf with generated code
        // (Generated/envelope.pb.swift, from Protos/envelope.proto by generate-protos.sh).
        .executableTarget(
            name: "codec-compare",
            dependencies: [
                .product(name: "KStore", package: "kstore"),
                .product(name: "KClinic", package: "kstore"),
                .product(name: "KBinary", package: "kstore"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/CodecCompare",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // SQLite's C API straight from Debian's libsqlite3 (no wrapper package: nothing extra to
        // build, and the baseline's prepared statements are exactly what it executes).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // kstore beside a SQLite baseline and the raw LMDB floor, in one process: one table.
        .executableTarget(
            name: "KStoreBench",
            dependencies: [
                "CSQLite",
                .product(name: "KApp", package: "kstore"),
                .product(name: "KStore", package: "kstore"),
                .product(name: "KClinic", package: "kstore"),
                .product(name: "KBinary", package: "kstore"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/KStoreBench",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
