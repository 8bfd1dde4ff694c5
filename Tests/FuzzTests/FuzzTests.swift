import LoomFuzz
import XCTest

/// The short, seeded fuzz runs of `make test` (`make fuzz` runs 100,000 cases).
final class FuzzTests: XCTestCase {
    /// The corpus libFuzzer starts from is made of inputs each reader
    /// accepts, so the fuzzer begins inside the formats, not at their door.
    func testEveryLibFuzzerSeedIsAcceptedByItsReader() {
        for target in FuzzTarget.allCases {
            XCTAssertFalse(target.seeds.isEmpty, target.rawValue)
            // (`?topic` help is answered before the parser, so those programs are left out.)
            for (i, seed) in target.seeds.enumerated() where !(target == .loom && seed.contains(UInt8(ascii: "?"))) {
                XCTAssertTrue(target.run(seed), "\(target.rawValue) seed \(i) is refused")
            }
        }
        XCTAssertFalse(FuzzTarget.json.run(Array("{".utf8)))
    }

    /// Every cut of each archive seed, and a byte flipped every 7 bytes,
    /// ends in a value or an error (a trap would end the test run).
    func testArchiveReadersSurviveCutsAndFlips() {
        for target in [FuzzTarget.gzip, .tar, .npz] {
            var refused = 0
            for seed in target.seeds {
                for cut in stride(from: 0, to: seed.count, by: max(1, seed.count / 500)) where !target.run(Array(seed.prefix(cut))) {
                    refused += 1
                }
                for at in stride(from: 0, to: seed.count, by: 7) {
                    var flipped = seed
                    flipped[at] ^= 0x5A
                    target.run(flipped)
                }
            }
            XCTAssertGreaterThan(refused, 0, target.rawValue)
        }
    }

    /// Weights in the compact layout (pruned, clustered, both), cut short
    /// and with a byte flipped every 3 bytes (the layout's JSON among them):
    /// each read ends in a value or an error, and cut files are refused.
    func testCompactWeightFilesSurviveCutsAndFlips() {
        let seeds = FuzzTarget.safetensors.seeds.filter { String(decoding: $0, as: UTF8.self).contains("loom.layout") }
        XCTAssertEqual(seeds.count, 3)
        for seed in seeds {
            for cut in 0..<seed.count { XCTAssertFalse(FuzzTarget.safetensors.run(Array(seed.prefix(cut)))) }
            for at in stride(from: 0, to: seed.count, by: 3) {
                var flipped = seed
                flipped[at] ^= 0x5A
                FuzzTarget.safetensors.run(flipped)
            }
        }
    }

    func testMutatedProgramsEndInAResultOrAnErrorNeverAHang() {
        let report = FuzzRunner.programs(count: 1500, seed: 2026)
        XCTAssertEqual(report.cases, 1500)
        XCTAssertEqual(report.hangs, [])
        XCTAssertGreaterThan(report.errors, 100)  // mutations do break programs
        XCTAssertLessThan(report.errors, 1500)    // and some still run
    }

    func testWellFormedModelsTrainOrStopWithAnErrorNeverAHang() {
        let report = FuzzRunner.programs(count: 200, seed: 29, kind: .models)
        XCTAssertEqual(report.hangs, [])
        // Most random stacks fit and run to the end: the fuzzer reaches the
        // engine and the reports, not only the shape checks ...
        XCTAssertLessThan(report.errors, 100, "\(report.errorKinds)")
        // ... and some do not fit their input, which must end in an error.
        XCTAssertGreaterThan(report.errors, 0)
    }

    /// Random sparse coding sessions: most learn, code and report; those
    /// that ask for more nonzeros than atoms, or a sample past the end, end
    /// in an error; none hangs or crashes.
    func testSparseCodingSessionsRunOrStopWithAnErrorNeverAHang() {
        let report = FuzzRunner.programs(count: 300, seed: 41, kind: .sparseCoding)
        XCTAssertEqual(report.hangs, [])
        XCTAssertGreaterThan(report.errors, 0, "some sessions ask for what cannot be")
        XCTAssertLessThan(report.errors, 150, "\(report.errorKinds)")
    }

    /// The model fuzzer draws layers on earlier layers' weights among its lines.
    func testTheModelFuzzerDrawsSharedAndTiedLayers() {
        var fuzzer = Fuzzer(seed: 29)
        let programs = (0..<200).map { _ in fuzzer.modelProgram() }
        XCTAssertGreaterThan(programs.filter { $0.contains(" share ") }.count, 10)
        XCTAssertGreaterThan(programs.filter { $0.contains(" tied ") }.count, 10)
    }

    func testRandomModelsTrainToTheSameWeightsOnAnyThreadCount() {
        XCTAssertEqual(FuzzRunner.threadIndependence(count: 150, seed: 11, threads: 2), [])
        XCTAssertEqual(FuzzRunner.threadIndependence(count: 50, seed: 12, threads: 3), [])
    }

    /// Random values and names for `loom run -p`, built from the pieces that
    /// broke escaping (CR LF, a quote joined to U+0600, brackets): each is
    /// refused or becomes exactly one assignment of exactly its value.
    func testParametersBecomeExactlyOneAssignmentOfTheirValue() {
        XCTAssertEqual(ParameterFuzzer.random(count: 20_000, seed: 24), [])
        XCTAssertEqual(ParameterFuzzer.check(name: "ks", value: "[1]\r\nprint \"INJECTED\""), .refused)
        XCTAssertEqual(ParameterFuzzer.check(name: "s", value: "\u{0600}\"\nprint \"INJECTED\"\n\""), .exact)
        XCTAssertEqual(ParameterFuzzer.check(name: "ks", value: "[5%, 'a\\'b', [-1e3]]"), .exact)
    }

    func testRandomAndDamagedFramesAreRejectedNotFatal() {
        let report = FuzzRunner.wire(count: 30_000, seed: 7)
        XCTAssertEqual(report.cases, 30_000)
        XCTAssertGreaterThan(report.errors, 5_000)
    }
}
