// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "kstore",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kstore", targets: ["kstore"]),
        .library(name: "KStore", targets: ["KStore"]),
        .library(name: "KClinic", targets: ["KClinic"]),
        .library(name: "KBinary", targets: ["KBinary"]),
        .library(name: "KApp", targets: ["KApp"]),
        .library(name: "KReport", targets: ["KReport"]),
        .library(name: "KServer", targets: ["KServer"]),
        .library(name: "KShip", targets: ["KShip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The web interface (`kstore serve`): HTTP/1.1 and HTTP/2 over TLS; no swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // bcrypt for web passwords (only its HummingbirdBcrypt product is used).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // multipart/form-data (the rule file upload of the admin page).
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        // Already under Hummingbird; named for the server's own channel handler (request deadlines).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `kstore ship`: the log into PostgreSQL (issue 15).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The system library: nothing but LMDB's header. Only KStore imports it.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // Byte-level primitives shared by the store (envelopes) and the domain (payloads).
        .target(name: "KBinary", swiftSettings: strict),
        // Safe LMDB layer and the append-only log. Knows bytes, envelopes, sequences; not the clinic.
        .target(
            name: "KStore",
            dependencies: [
                "CLMDB", "KBinary",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Clinical events, validation, rule set, projections as pure folds. Foundation only.
        .target(name: "KClinic", dependencies: ["KBinary"], swiftSettings: strict),
        // Pages and pictures: pure functions from report inputs to HTML and SVG text (no LMDB,
        // no clock, no file system). HTML and SVG through its own writers, every value escaped in `Escape`.
        .target(
            name: "KReport",
            dependencies: ["KClinic"],
            swiftSettings: strict
        ),
        // Where store and domain meet: import pipeline, projections over the log, report inputs.
        .target(
            name: "KApp",
            dependencies: [
                "KStore", "KClinic", "KBinary", "KReport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: strict
        ),
        // The web interface and HTTP API on Hummingbird 2: routes, sign-in, sessions, the reader
        // pool and the one writer thread (group commit). Joins KApp and KReport; never imports KStore.
        .target(
            name: "KServer",
            dependencies: [
                "KApp", "KClinic", "KReport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // `kstore ship`: the log and its projections into PostgreSQL, batch by batch, exactly once.
        // Reads the store through KApp (never KStore).
        .target(
            name: "KShip",
            dependencies: [
                "KApp", "KClinic",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The command: argument parsing, exit codes, nothing else.
        .executableTarget(
            name: "kstore",
            dependencies: [
                "KApp", "KClinic", "KReport", "KServer", "KShip",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Drills and measurements (tools/*.sh drive it): crash writer, concurrent appender, timings.
        .executableTarget(
            name: "kstore-drill",
            dependencies: ["KApp", "KStore", "KClinic", "KReport", "KBinary"],
            swiftSettings: strict
        ),
        .testTarget(name: "KBinaryTests", dependencies: ["KBinary"], swiftSettings: strict),
        .testTarget(name: "KStoreTests", dependencies: ["KStore", "KBinary"], swiftSettings: strict),
        .testTarget(name: "KClinicTests", dependencies: ["KClinic", "KBinary"], swiftSettings: strict),
        .testTarget(
            name: "KShipTests",
            dependencies: [
                "KShip", "KApp", "KClinic", "kstore", "kstore-drill",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KAppTests", dependencies: ["KApp", "KStore", "KClinic", "KBinary", "KReport", "kstore", "kstore-drill"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
