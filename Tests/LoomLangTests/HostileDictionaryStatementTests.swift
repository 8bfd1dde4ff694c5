import Foundation
import LoomCore
import LoomLang
import XCTest

/// Dictionary files a user may be handed: huge values, samples without
/// values, a saved dictionary whose sample shape is negative. Each is read
/// right or refused with a clear error.
final class HostileDictionaryStatementTests: LoomTestCase {
    func file(_ name: String) -> String { NSTemporaryDirectory() + "loom-\(getpid())-\(name)" }

    func testValuesNearTheLargestFloatAreScaledOrRefused() throws {
        let path = file("huge.npy")
        defer { unlink(path) }
        try MemoryLimitTests.npy([3e38, 3e38, 3e38, -3e38, 1, 2], shape: "(3, 2)").write(to: URL(fileURLWithPath: path))
        guard case .ok = run("dictionary d = npy \"\(path)\"") else { return XCTFail("\(texts())") }
        guard case .object(let d as SessionDictionary)? = loom.session["d"] else { return XCTFail() }
        let half = Float(0.5).squareRoot()
        XCTAssertEqual(d.dictionary.atoms[0], half, accuracy: 1e-6)
        XCTAssertEqual(d.dictionary.atoms[3], -half, accuracy: 1e-6)
        XCTAssertTrue(d.dictionary.atoms.allSatisfy(\.isFinite))
        run("data x = npy \"\(path)\"")
        for statement in ["codes c = encode x with d omp sparsity 1", "dictionary e = learn x atoms 2 sparsity 1 iterations 2"] {
            XCTAssertTrue(error(statement)?.value.hasPrefix("sample 1 is too large to code in single precision") ?? false, statement)
        }
    }

    /// Comparing 200,000 atoms pairwise takes minutes: an interrupt stops
    /// it, and nothing is defined.
    func testReadingAHugeDictionaryStopsWhenAsked() throws {
        let path = file("many.npy")
        defer { unlink(path) }
        try MemoryLimitTests.npy((0..<200_000).map { Float($0 % 7) - 3.5 }, shape: "(200000, 1)").write(to: URL(fileURLWithPath: path))
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.3); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let started = Date()
        XCTAssertEqual(error("dictionary d = npy \"\(path)\"")?.name, "Interrupted")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertNil(loom.session["d"])
    }

    func testSamplesWithoutValuesAreRefused() throws {
        let path = file("empty.npy")
        defer { unlink(path) }
        try MemoryLimitTests.npy([], shape: "(5, 0)").write(to: URL(fileURLWithPath: path))
        for statement in ["dictionary d = npy \"\(path)\"", "data x = npy \"\(path)\""] {
            XCTAssertEqual(error(statement)?.value, "\(path) holds 5 samples of 0: no values in each", statement)
        }
    }

    func testASavedDictionaryWithANegativeShapeIsRefused() throws {
        let path = file("dictionary.safetensors")
        defer { unlink(path) }
        run("data pix = patches n 30 size 4\ndictionary d = learn pix atoms 4 sparsity 1 iterations 1\nsave d \"\(path)\"")
        let saved = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for shape in ["-4x-4", "4x-4", "0x16", "99999999999x99999999999", "4xx4"] {
            var header = String(decoding: saved.dropFirst(8).prefix(Int(saved[0]) | Int(saved[1]) << 8), as: UTF8.self)
            header = header.replacingOccurrences(of: "\"4x4x1\"", with: "\"\(shape)\"")
            let length = header.utf8.count
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + Array(header.utf8)
                + saved.dropFirst(8 + (Int(saved[0]) | Int(saved[1]) << 8))
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let text = error("load e \"\(path)\"")?.value ?? ""
            XCTAssertTrue(text.contains("loom.shape `\(shape)` is not a shape of positive sizes holding the 16 values"), text)
            XCTAssertNil(loom.session["e"])
        }
    }
}
