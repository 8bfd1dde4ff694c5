// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Loom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loom", targets: ["loom"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries: plain module maps (libzmq's pkg-config file carries
        // a flag SwiftPM rejects, see docs/architecture.md).
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
        .systemLibrary(name: "CSodium", path: "Sources/CSodium"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        // libcurl, loaded with dlopen on the first download (nothing linked; see its shim).
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        // Open MPI, loaded with dlopen under mpirun (nothing linked; see its shim).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI"),

        .target(name: "LoomCore"),
        .target(name: "Jupyter", dependencies: ["LoomCore", "CZeroMQ", "CSodium", "CMalloc"]),
        .target(name: "LoomEngine", dependencies: ["CBLAS", "CMalloc", "CDeflate", "CPNG", "CSodium", "CCurl", "CMPI", "LoomCore"]),
        .target(name: "LoomRender", dependencies: ["LoomCore"]),
        .target(name: "LoomLang", dependencies: ["LoomCore", "LoomRender", "LoomEngine", "LoomONNX", "LoomTensorBoard"]),
        // TensorBoard event files; the protobuf code generated from Proto/ is committed (see Proto/README.md).
        .target(name: "LoomTensorBoard", dependencies: ["LoomCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto"]),
        .target(name: "LoomNotebook", dependencies: ["LoomCore"]),
        // ONNX export: the generated onnx.proto code (committed) and the graph writer.
        .target(name: "LoomONNX", dependencies: ["LoomEngine", "LoomCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto/onnx.proto", "Proto/LICENSE", "Proto/README.md"]),
        .executableTarget(
            name: "loom",
            dependencies: [
                "Jupyter", "LoomLang", "LoomEngine", "LoomCore", "LoomRender", "LoomNotebook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .target(name: "LoomFuzz", dependencies: ["Jupyter", "LoomLang", "LoomEngine", "LoomCore", "LoomNotebook"]),
        .executableTarget(name: "loom-fuzz", dependencies: ["LoomFuzz"], path: "Fuzz", exclude: ["LibFuzzer", "libfuzzer.sh", "sanitize.sh"]),
        // libFuzzer's entry point with -DLIBFUZZER (`make fuzz-coverage`); a corpus replayer otherwise.
        .executableTarget(name: "loom-libfuzzer", dependencies: ["LoomFuzz"], path: "Fuzz/LibFuzzer",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "kernel-bench", dependencies: ["Jupyter", "LoomCore", "CZeroMQ"],
                          path: "Benchmarks/KernelBench"),

        .testTarget(name: "LoomCoreTests", dependencies: ["LoomCore"]),
        .testTarget(name: "FuzzTests", dependencies: ["LoomFuzz"]),
        .testTarget(name: "LoomEngineTests", dependencies: ["LoomEngine"], exclude: ["Fixtures"]),
        .testTarget(name: "JupyterTests", dependencies: ["Jupyter", "LoomCore"]),
        .testTarget(name: "LoomLangTests", dependencies: ["LoomLang", "LoomCore"]),
        .testTarget(name: "LoomNotebookTests", dependencies: ["LoomNotebook", "LoomLang", "LoomCore"]),
        .testTarget(name: "LoomTensorBoardTests", dependencies: ["LoomTensorBoard"]),
        .testTarget(name: "LoomRenderTests", dependencies: ["LoomRender", "LoomCore"], exclude: ["Golden"]),
        .testTarget(name: "LoomONNXTests", dependencies: ["LoomONNX", "LoomEngine", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    ],
    swiftLanguageModes: [.v6]
)
