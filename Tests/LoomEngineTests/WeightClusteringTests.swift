import LoomEngine
import XCTest

/// Weight clustering: k-means from linear initialisation, centroids stepped
/// by their members' summed gradients, masked weights zero and outside.
final class WeightClusteringTests: XCTestCase {
    var random = RandomGenerator(seed: 5)

    func randomTensor(_ shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() * 2 - 1 }
        return t
    }

    /// input 12 → dense1 16 tanh → dense2 3.
    func model(seed: UInt64 = 3) throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [12], random: RandomGenerator(seed: seed))
        try model.add(.dense(units: 16, activation: .tanh))
        try model.add(.dense(units: 3, activation: .linear))
        return model
    }

    func kernels(_ model: Sequential) -> [Parameter] { SparseWeights.prunable(model.layers) }

    func testKMeansStartsLinearAndMovesToTheMeans() throws {
        // Linear start at 0.1 and 5; the midpoint 2.55 splits {0.1, 0.2, 0.9, 1} from {5}.
        let clusters = try WeightClusters.kMeans([0.1, 5, 0.2, 1, 0.9], mask: nil, count: 2)
        XCTAssertEqual(clusters.centroids, [Float((0.1 + 0.2 + 0.9 + 1.0) / 4), 5])
        XCTAssertEqual(clusters.assignment, [0, 1, 0, 0, 0])
        XCTAssertEqual(clusters.bitsPerIndex, 1)
    }

    func testKMeansLeavesMaskedWeightsOutAndKeepsAnEmptyClusterWhereItStarted() throws {
        // Masked 100 is no member; three centroids over 0...3 leave the middle one (1.5) empty.
        let clusters = try WeightClusters.kMeans([0, 100, 0.25, 3, 2.75], mask: [1, 0, 1, 1, 1], count: 3)
        XCTAssertEqual(clusters.centroids, [0.125, 1.5, 2.875])
        XCTAssertEqual(clusters.assignment[0], 0)
        XCTAssertEqual(clusters.assignment[3], 2)
        XCTAssertEqual(clusters.bitsPerIndex, 2)
    }

    func testClusteringRefusesMaskedOutOrNonFiniteWeights() {
        XCTAssertThrowsError(try WeightClusters.kMeans([1, 2], mask: [0, 0], count: 2))
        XCTAssertThrowsError(try WeightClusters.kMeans([1, .nan], mask: nil, count: 2))
        XCTAssertThrowsError(try WeightClusters(centroids: [1, 2], assignment: [0, 2]))
    }

    /// After clustering and steps of every optimizer, each kernel holds at
    /// most N distinct nonzero values and its pruned weights stay zero.
    func testEveryOptimizerKeepsAtMostNValuesAndPrunedWeightsZero() throws {
        for kind in OptimizerKind.allCases {
            let model = try model()
            SparseWeights.prune(kernels(model), fraction: 0.5, global: false)
            try WeightClusters.cluster(kernels(model), count: 4)
            let optimizer = Optimizer(kind, learningRate: 0.05)
            let x = randomTensor([8, 12]), target = randomTensor([8, 3])
            var before = kernels(model).map(\.value)
            for _ in 0..<5 {
                for p in model.parameters { p.zeroGradient() }
                let y = model.forward(x, training: true)
                model.backward(Tensor(shape: y.shape, storage: zip(y.storage, target.storage).map { $0 - $1 }))
                optimizer.step(model.parameters)
            }
            for (p, old) in zip(kernels(model), before) {
                let kept = (0..<p.value.count).filter { p.mask![$0] != 0 }
                XCTAssertLessThanOrEqual(Set(kept.map { p.value[$0] }).count, 4, "\(kind)")
                XCTAssertTrue((0..<p.value.count).allSatisfy { p.mask![$0] != 0 || p.value[$0] == 0 }, "\(kind)")
                XCTAssertNotEqual(p.value, old, "\(kind): the centroids moved")
                XCTAssertEqual(kept.map { p.value[$0] }, kept.map { p.clusters!.centroids[Int(p.clusters!.assignment[$0])] })
            }
            before = []
        }
    }

    /// Each centroid's gradient, the sum of its members', against central
    /// finite differences of L = Σ wᵢ·yᵢ moving that centroid alone.
    func testCentroidGradientIsTheSumOfItsMembersByFiniteDifferences() throws {
        let model = try model()
        SparseWeights.prune(kernels(model), fraction: 0.3, global: false)
        try WeightClusters.cluster(kernels(model), count: 5)
        let x = randomTensor([4, 12])
        let w = randomTensor(model.forward(x, training: false).shape)
        func loss() -> Double {
            let y = model.forward(x, training: false)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(w[$1]) }
        }
        for p in model.parameters { p.zeroGradient() }
        _ = model.forward(x, training: true)
        model.backward(w)
        for p in kernels(model) {
            let clusters = try XCTUnwrap(p.clusters)
            let analytic = clusters.centroidGradient(of: p)
            for j in 0..<clusters.centroids.count {
                let c = clusters.centroids[j], eps: Float = 1e-2
                clusters.centroids[j] = c + eps
                p.applyMask()
                let plus = loss()
                clusters.centroids[j] = c - eps
                p.applyMask()
                let minus = loss()
                clusters.centroids[j] = c
                p.applyMask()
                let numeric = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(analytic[j]), numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(p.name) centroid \(j)")
            }
        }
    }
}
