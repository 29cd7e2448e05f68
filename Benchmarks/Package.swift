// swift-tools-version:6.0
import PackageDescription

// Measurements kept out of the main package so that its dependency graph (and the shipped
// binary) never sees swift-protobuf. Build and run in release:
//
//     swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build
//     Benchmarks/.build/release/codec-compare
let package = Package(
    name: "kstore-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "kstore", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
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
    ],
    swiftLanguageModes: [.v6]
)
