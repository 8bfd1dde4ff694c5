import LoomCore
import LoomEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Ranks in one process, one thread each: a broadcast passes the root's
/// buffer between two barriers, as MPI_Bcast would between processes, and
/// an allgather every rank's part, as MPI_Allgatherv would.
final class ThreadRanks: @unchecked Sendable {
    let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
    var slot: UnsafeMutableRawBufferPointer?
    var parts: [UnsafeRawBufferPointer?]
    var gathered: [[UInt8]]
    /// Meetings of the ranks in training steps (broadcasts and allgathers).
    var meetings = 0

    init(size: Int) {
        pthread_barrier_init(barrier, nil, UInt32(size))
        parts = [UnsafeRawBufferPointer?](repeating: nil, count: size)
        gathered = [[UInt8]](repeating: [], count: size)
    }

    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }

    final class Rank: Collective {
        let rank: Int, shared: ThreadRanks
        var size: Int { shared.gathered.count }
        init(_ rank: Int, of shared: ThreadRanks) {
            self.rank = rank
            self.shared = shared
        }

        func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {
            if rank == root { shared.slot = buffer; shared.meetings += 1 }
            pthread_barrier_wait(shared.barrier)
            if rank != root, buffer.count > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(shared.slot!)) }
            pthread_barrier_wait(shared.barrier)
        }

        func idleBroadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) { broadcast(buffer, from: root) }

        func allgather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer, counts: [Int]) {
            XCTAssertEqual(mine.count, counts[rank])
            shared.parts[rank] = mine
            if rank == 0 { shared.meetings += 1 }
            pthread_barrier_wait(shared.barrier)
            var offset = 0
            for part in shared.parts.map({ $0! }) {
                if !part.isEmpty { UnsafeMutableRawBufferPointer(rebasing: all[offset..<(offset + part.count)]).copyMemory(from: part) }
                offset += part.count
            }
            XCTAssertEqual(offset, all.count)
            pthread_barrier_wait(shared.barrier)
        }

        func gather(_ bytes: [UInt8], patience: Double?) -> [[UInt8]]? {
            shared.gathered[rank] = bytes
            pthread_barrier_wait(shared.barrier)
            let all = shared.gathered
            pthread_barrier_wait(shared.barrier)
            return all
        }

        func abort(_ message: String) -> Never { fatalError(message) }
        func finish() {}
    }
}

/// Training on several ranks: each computes the shards dealt to it and
/// hands them over, so every rank ends with one process's weights.
final class RanksTests: XCTestCase {
    /// Masks (one sparse enough to train through its pattern), k-winners and
    /// dropout: gradients dense and sparse, duty cycles, generators.
    func model() throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [8, 8, 1], random: RandomGenerator(seed: 5))
        try m.add(.conv2d(filters: 4, kernel: (3, 3), activation: .relu, stride: 1, padding: .same))
        try m.add(.flatten)
        try m.add(.dense(units: 24, activation: .relu))
        try m.add(KWinnersSpec(k: .units(6), boost: 1))
        try m.add(.dropout(rate: 0.25))
        try m.add(.dense(units: 3, activation: .softmax))
        var random = RandomGenerator(seed: 9)
        for p in m.parameters where p.value.shape.count == 2 {
            p.trainsSparsely = true
            try p.setMask((0..<p.value.count).map { _ in random.nextUnitFloat() < 0.1 ? 1 : 0 })
        }
        XCTAssertNotNil(m.parameters.first { $0.sparsePattern != nil })
        return m
    }

    /// 100 samples in batches of 40 and 20: four shards, then two.
    func train(_ model: Sequential, ranks: any Collective) {
        var random = RandomGenerator(seed: 3)
        let x = Tensor(shape: [100, 8, 8, 1], storage: (0..<6400).map { _ in random.nextUnitFloat() })
        let data = Dataset(inputs: x, labels: (0..<100).map { $0 % 3 }, classes: 3)
        for batch in [40, 20] {
            _ = Trainer.fit(model, on: data, options: FitOptions(epochs: 2, batchSize: batch, loss: .crossentropy),
                            optimizer: Optimizer(.adam), random: &random, clock: { 0 }, ranks: ranks)
        }
    }

    func bits(_ model: Sequential) -> [[UInt32]] {
        model.parameters.map { $0.value.storage.map(\.bitPattern) } + model.namedState.map { $0.state.value.storage.map(\.bitPattern) }
    }

    func testTwoAndThreeRanksTrainTheWeightsOfOneProcessBitForBit() throws {
        Parallel.setThreads(1)
        let single = try model()
        train(single, ranks: SingleProcess())
        for size in [2, 3] {
            let shared = ThreadRanks(size: size)
            let models = try (0..<size).map { _ in try model() }
            let threads = try (0..<size).map { r in
                let job = Unchecked { self.train(models[r], ranks: ThreadRanks.Rank(r, of: shared)) }
                return try BackgroundThread { job.run() }
            }
            threads.forEach { $0.join() }
            // One meeting per step: 2 epochs of three batches of 40, then of five of 20.
            XCTAssertEqual(shared.meetings, 2 * 3 + 2 * 5, "\(size) ranks: not one exchange per step")
            for m in models { XCTAssertTrue(bits(m) == bits(single), "\(size) ranks: not the weights and state of one process") }
        }
    }

    /// 100 samples in batches of 16 (the last of 4): each rank predicts a
    /// run of whole batches, and every rank ends with one process's outputs.
    func testRanksSplitPredictionAndGatherOneProcesssOutputsBitForBit() throws {
        Parallel.setThreads(1)
        var random = RandomGenerator(seed: 4)
        let x = Tensor(shape: [100, 8, 8, 1], storage: (0..<6400).map { _ in random.nextUnitFloat() })
        let single = try model().predict(x, batchSize: 16, shouldStop: { false }, ranks: SingleProcess())!
        for size in [2, 3, 8] {
            let shared = ThreadRanks(size: size)
            let models = try (0..<size).map { _ in try model() }
            let outputs = UnsafeMutableBufferPointer<Tensor?>.allocate(capacity: size)
            outputs.initialize(repeating: nil)
            defer { _ = outputs.deinitialize(); outputs.deallocate() }
            let threads = try (0..<size).map { r in
                let job = Unchecked { outputs[r] = models[r].predict(x, batchSize: 16, shouldStop: { false }, ranks: ThreadRanks.Rank(r, of: shared)) }
                return try BackgroundThread { job.run() }
            }
            threads.forEach { $0.join() }
            XCTAssertEqual(shared.meetings, 1, "\(size) ranks: not one exchange")
            for output in outputs {
                XCTAssertEqual(output?.shape, single.shape)
                XCTAssertTrue(output?.storage.map(\.bitPattern) == single.storage.map(\.bitPattern), "\(size) ranks: not one process's outputs")
            }
        }
    }
}

/// A rank's training, handed to its thread (each thread owns its model).
struct Unchecked: @unchecked Sendable {
    let run: () -> Void
}
