import Foundation
import LoomEngine
import XCTest

/// A `local2d` layer named local1 on `input`.
func local2d(_ random: inout RandomGenerator, _ input: [Int], filters: Int, kernel: (Int, Int), stride: Int = 1,
             padding: Conv2D.Padding = .valid) throws -> LocallyConnected2D {
    let spec = Local2DSpec(filters: filters, kernel: Window(kernel.0, kernel.1), stride: stride, padding: padding)
    return try XCTUnwrap(try spec.build(name: "local1", input: input, random: &random).first as? LocallyConnected2D)
}

extension GradientTests {
    func testLocal2DGradientsMatchFiniteDifferences() throws {
        for (kernel, stride, padding) in [((3, 3), 1, Conv2D.Padding.valid), ((3, 3), 2, .same), ((2, 3), 1, .same),
                                          ((3, 2), 2, .valid), ((1, 1), 1, .valid)] {
            let layer = try local2d(&random, [6, 5, 2], filters: 3, kernel: kernel, stride: stride, padding: padding)
            check(layer, input: randomTensor([2, 6, 5, 2]))
        }
        // One sample and one filter: the products become matrix-vector ones.
        check(try local2d(&random, [4, 4, 1], filters: 1, kernel: (2, 2)), input: randomTensor([1, 4, 4, 1]))
    }

    func testLocal1DGradientsMatchFiniteDifferences() throws {
        for (kernel, stride, padding) in [(3, 1, Conv2D.Padding.valid), (2, 2, .same), (1, 1, .valid)] {
            let layers = try Local1DSpec(filters: 4, kernel: kernel, stride: stride, padding: padding)
                .build(name: "local1", input: [7, 3], random: &random)
            XCTAssertEqual(layers.map(\.kind), ["local1d"])
            check(layers[0], input: randomTensor([3, 7, 3]))
        }
    }
}

/// `local2d` and `local1d` against finite differences, against conv2d with
/// every position's kernel equal, and against Keras 2's definition
/// (Fixtures/make_locally_connected.py wrote the stored values).
final class LocallyConnectedTests: XCTestCase {
    var random = RandomGenerator(seed: 7)

    func local2d(_ input: [Int], filters: Int, kernel: (Int, Int), stride: Int = 1,
                 padding: Conv2D.Padding = .valid) throws -> LocallyConnected2D {
        try LoomEngineTests.local2d(&random, input, filters: filters, kernel: kernel, stride: stride, padding: padding)
    }

    func randomTensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in random.nextUnitFloat() * 2 - 1 })
    }

    /// With the same kernel and bias at every position, the unshared twin
    /// computes exactly what the convolution does, on every padding and stride.
    func testEqualKernelsAtEveryPositionGiveConv2DsOutputExactly() throws {
        for (kernel, stride, padding) in [((3, 3), 1, Conv2D.Padding.valid), ((3, 3), 2, .same), ((2, 3), 1, .same)] {
            let conv = try Conv2D(name: "conv1", input: [7, 6, 3], filters: 5, kernel: Window(kernel.0, kernel.1), stride: stride,
                                  padding: padding, random: &random)
            for i in 0..<conv.bias.value.count { conv.bias.value[i] = Float(i) * 0.1 - 0.2 }
            let local = try local2d([7, 6, 3], filters: 5, kernel: kernel, stride: stride, padding: padding)
            XCTAssertEqual(local.outputShape, conv.outputShape)
            let positions = local.outputShape[0] * local.outputShape[1]
            XCTAssertEqual(local.weight.value.shape, [positions, kernel.0 * kernel.1 * 3, 5])
            local.weight.value = Tensor(shape: local.weight.value.shape,
                                        storage: Array([[Float]](repeating: conv.weight.value.storage, count: positions).joined()))
            local.bias.value = Tensor(shape: local.bias.value.shape,
                                      storage: Array([[Float]](repeating: conv.bias.value.storage, count: positions).joined()))
            let x = randomTensor([4, 7, 6, 3])
            XCTAssertEqual(local.forward(x, training: false).storage.map(\.bitPattern),
                           conv.forward(x, training: false).storage.map(\.bitPattern), "\(kernel) stride \(stride) \(padding)")
        }
    }

    func testOutputsMatchKeras2sLocallyConnectedLayers() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/locally-connected.safetensors")
        let file = try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "locally-connected.safetensors")
        let cases: [(String, any LayerSpec)] = [
            ("valid", Local2DSpec(filters: 4, kernel: Window(3, 2))),
            ("strided", Local2DSpec(filters: 3, kernel: Window(3, 3), stride: 2)),
            ("same", Local2DSpec(filters: 3, kernel: Window(3, 3), stride: 2, padding: .same)),
            ("seq", Local1DSpec(filters: 4, kernel: 3, stride: 2)),
        ]
        for (name, spec) in cases {
            let x = try XCTUnwrap(file.tensors["\(name).input"])
            let layer = try spec.build(name: name, input: Array(x.shape.dropFirst()), random: &random)[0]
            for p in layer.parameters {
                let stored = try XCTUnwrap(file.tensors["\(name).\(p.name)"], "\(name).\(p.name)")
                XCTAssertEqual(stored.shape, p.value.shape, "\(name).\(p.name): Keras 2's layout")
                p.value = stored
            }
            let expected = try XCTUnwrap(file.tensors["\(name).output"])
            let y = layer.forward(x, training: false)
            XCTAssertEqual(y.shape, expected.shape, name)
            for i in 0..<y.count { XCTAssertEqual(y[i], expected[i], accuracy: 1e-5, "\(name)[\(i)]") }
        }
    }

    /// A replica keeps patches of its own: a shard through it between the
    /// layer's forward and backward leaves the layer's gradient as it was.
    func testReplicasKeepTheirOwnPatches() throws {
        let layer = try local2d([5, 5, 2], filters: 3, kernel: (3, 3), padding: .same)
        let (a, b) = (randomTensor([2, 5, 5, 2]), randomTensor([3, 5, 5, 2]))
        let dy = randomTensor([2, 5, 5, 3])
        let alone = layer.replica(on: layer.parameters.map { $0.replica() })
        _ = alone.forward(a, training: true)
        let dxAlone = alone.backward(dy)
        _ = layer.forward(a, training: true)
        let replica = layer.replica(on: layer.parameters.map { $0.replica() })
        _ = replica.forward(b, training: true)
        XCTAssertEqual(layer.backward(dy), dxAlone)
        XCTAssertEqual(layer.parameters.map(\.gradient), alone.parameters.map(\.gradient))
    }

    func testCountsAndShapeErrors() throws {
        let layer = try local2d([28, 28, 1], filters: 16, kernel: (3, 3))
        XCTAssertEqual(layer.parameterCount, 676 * (9 * 16 + 16))
        XCTAssertEqual(try Local2DSpec(filters: 16, kernel: Window(3, 3)).parameterCount(input: [28, 28, 1]), layer.parameterCount)
        XCTAssertEqual(layer.unsharedParameters, layer.parameterCount)
        XCTAssertEqual(layer.multiplyAdds, 676 * 9 * 16)
        XCTAssertEqual(layer.sharingForm, .unsharedTwin(convolution: 160, positions: 676))
        XCTAssertEqual(try Local1DSpec(filters: 4, kernel: 3).parameterCount(input: [10, 2]), 8 * (6 * 4 + 4))
        func message(_ spec: any LayerSpec, _ input: [Int]) -> String {
            do { _ = try spec.build(name: "local1", input: input, random: &random) } catch { return error.message }
            return "built"
        }
        XCTAssertEqual(message(Local2DSpec(filters: 2, kernel: Window(5, 5)), [4, 4, 1]), "a 5x5 kernel does not fit a 4x4 input")
        XCTAssertEqual(try Local2DSpec(filters: 2, kernel: Window(5, 5)).parameterCount(input: [4, 4, 1]), 0)
        XCTAssertEqual(message(Local2DSpec(filters: 2, kernel: Window(3, 3)), [16]),
                       "local2d needs an input of height×width×channels, not 16")
        XCTAssertEqual(message(Local1DSpec(filters: 2, kernel: 3), [8, 8, 1]), "local1d needs an input of steps×features, not 8x8x1")
        XCTAssertEqual(message(Local1DSpec(filters: 2, kernel: 9), [8, 1]), "a 9x1 kernel does not fit a 8x1 input")
        XCTAssertThrowsError(try Local2DSpec(filters: 1 << 40, kernel: Window(3, 3)).parameterCount(input: [1 << 20, 1 << 10, 1]))
    }

    /// `show weights` draws a few positions' kernels, not one grid of all.
    func testWeightGridsAreTheKernelsOfTheFirstCentreAndLastPositions() throws {
        let layer = try local2d([5, 5, 1], filters: 2, kernel: (2, 2))
        let grids = layer.weightGrids
        XCTAssertEqual(grids.map(\.title), ["local1's kernel at position (1, 1) of 4x4, 4x2",
                                            "local1's kernel at position (3, 3) of 4x4, 4x2",
                                            "local1's kernel at position (4, 4) of 4x4, 4x2"])
        XCTAssertEqual(grids[1].values, layer.weight.value.storage[(2 * 4 + 2) * 8..<(2 * 4 + 3) * 8].map(Double.init))
        SparseWeights.prune([layer.weight], fraction: 0.5, global: false)
        XCTAssertEqual(layer.weightGrids.map(\.kind), [.values, .pattern, .values, .pattern, .values, .pattern])
    }
}
