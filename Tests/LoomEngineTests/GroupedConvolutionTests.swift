import Foundation
import LoomEngine
import XCTest

/// Grouped, depthwise and separable convolutions: backward against finite
/// differences (inputs, kernels, biases), each against an independent
/// computation, and their outputs against Keras's.
extension GradientTests {
    func testGroupedConvolutionWithStridesAndPadding() throws {
        // Groups of 2 to 6 filters run the direct loops; of 32, im2col and one product per group.
        for (groups, filters, kernel, stride, padding) in [(2, 4, (3, 3), 1, Conv2D.Padding.valid), (3, 6, (3, 2), 2, .same),
                                                           (6, 6, (2, 2), 1, .same), (2, 2, (1, 1), 1, .valid),
                                                           (3, 27, (3, 3), 1, .same), (2, 64, (3, 3), 2, .same)] {
            let conv = try Conv2D(name: "g", input: [5, 6, 6], filters: filters, kernel: Window(kernel.0, kernel.1), stride: stride,
                                  padding: padding, groups: groups, random: &random)
            XCTAssertEqual(conv.weight.value.shape, [kernel.0, kernel.1, 6 / groups, filters])
            check(conv, input: randomTensor([2, 5, 6, 6]))
        }
    }

    /// Channels below, at and past a whole vector of eight (the short last
    /// vector), multipliers 1 and 2, strides and both paddings.
    func testDepthwiseWithMultipliersStridesAndPadding() throws {
        for (channels, multiplier, kernel, stride, padding) in [(3, 1, (3, 3), 1, Conv2D.Padding.same), (3, 2, (2, 3), 2, .valid),
                                                                (8, 1, (3, 3), 2, .same), (10, 2, (3, 3), 1, .valid),
                                                                (1, 2, (1, 1), 1, .valid)] {
            let layer = try DepthwiseConv2D(name: "d", input: [5, 6, channels], kernel: Window(kernel.0, kernel.1),
                                            multiplier: multiplier, stride: stride, padding: padding, random: &random)
            check(layer, input: randomTensor([2, 5, 6, channels]))
        }
    }

    func testSeparableWithMultipliersStridesAndPadding() throws {
        for (channels, multiplier, filters, stride, padding) in [(3, 1, 4, 1, Conv2D.Padding.same), (4, 2, 3, 2, .valid),
                                                                 (9, 1, 5, 2, .same)] {
            let layer = try SeparableConv2D(name: "s", input: [5, 6, channels], filters: filters, kernel: Window(3, 3),
                                            multiplier: multiplier, stride: stride, padding: padding, random: &random)
            check(layer, input: randomTensor([2, 5, 6, channels]))
        }
    }

    /// Separable keeps its depthwise outputs from batch to batch; a reused
    /// buffer gives what a fresh pass gives.
    func testSeparableReusingItsBuffersGivesWhatAFreshPassGives() throws {
        let layer = try SeparableConv2D(name: "s", input: [5, 5, 3], filters: 4, kernel: Window(3, 3), multiplier: 2, stride: 1,
                                        padding: .same, random: &random)
        for _ in 0..<3 {
            let x = randomTensor([2, 5, 5, 3])
            let fresh = layer.forward(x, training: false)
            let trained = layer.forward(x, training: true)
            _ = layer.backward(randomTensor(trained.shape))
            XCTAssertEqual(trained, fresh)
        }
    }
}

final class GroupedConvolutionTests: XCTestCase {
    var random = RandomGenerator(seed: 7)

    func randomTensor(_ shape: [Int]) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = random.nextUnitFloat() * 2 - 1 }
        return t
    }

    func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5, _ what: String, file: StaticString = #filePath,
                     line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let worst = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, tolerance, "\(what): largest difference \(worst)", file: file, line: line)
    }

    /// A channel slice `[from, from + count)` of an NHWC tensor.
    func channels(_ x: Tensor, _ from: Int, _ count: Int) -> Tensor {
        let c = x.shape.last!
        var out = Tensor(zeros: Array(x.shape.dropLast()) + [count])
        for p in 0..<(x.count / c) { for k in 0..<count { out[p * count + k] = x[p * c + from + k] } }
        return out
    }

    /// `groups` G equals G separate convolutions on the channels' slices,
    /// each group's filters a slice of the kernel, outputs side by side.
    func testGroupsAreSeparateConvolutionsOnChannelSlices() throws {
        // Three filters a group (the direct loops) and 32 (a product per group).
        for (groups, f) in [(3, 9), (2, 64)] { try checkGroupsAreSeparateConvolutions(groups: groups, filters: f) }
    }

    func checkGroupsAreSeparateConvolutions(groups: Int, filters f: Int) throws {
        let c = 6
        let grouped = try Conv2D(name: "g", input: [7, 6, c], filters: f, kernel: Window(3, 2), stride: 2, padding: .same,
                                 groups: groups, random: &random)
        grouped.bias.value = randomTensor([f])
        let x = randomTensor([3, 7, 6, c])
        let y = grouped.forward(x, training: false)
        let (cg, fg) = (c / groups, f / groups)
        for g in 0..<groups {
            let one = try Conv2D(name: "one", input: [7, 6, cg], filters: fg, kernel: Window(3, 2), stride: 2, padding: .same,
                                 random: &random)
            let kernel = grouped.weight.value
            for i in 0..<one.weight.value.count {
                let (tapAndChannel, filter) = (i / fg, i % fg)
                one.weight.value[i] = kernel[tapAndChannel * f + g * fg + filter]
            }
            for k in 0..<fg { one.bias.value[k] = grouped.bias.value[g * fg + k] }
            assertClose(one.forward(channels(x, g * cg, cg), training: false), channels(y, g * fg, fg), "group \(g)")
        }
    }

    /// `groups 1` is conv2d: the same weights drawn, the same outputs and
    /// gradients, bit for bit.
    func testOneGroupIsConv2DBitForBit() throws {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let plain = try Conv2DSpec(filters: 5, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .same)
            .build(name: "c", input: [6, 6, 4], random: &a)
        let one = try Conv2DSpec(filters: 5, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .same, groups: 1)
            .build(name: "c", input: [6, 6, 4], random: &b)
        let x = randomTensor([2, 6, 6, 4]), dy = randomTensor([2, 6, 6, 5])
        XCTAssertEqual(plain[0].parameters.map(\.value), one[0].parameters.map(\.value))
        XCTAssertEqual(plain[0].forward(x, training: true), one[0].forward(x, training: true))
        XCTAssertEqual(plain[0].backward(dy), one[0].backward(dy))
        XCTAssertEqual(plain[0].parameters.map(\.gradient), one[0].parameters.map(\.gradient))
    }

    /// The direct depthwise loop against conv2d with as many groups as
    /// channels (im2col and one product per group) on the same weights:
    /// kernels `[kh, kw, C, M]` and `[kh, kw, 1, C·M]` are the same memory.
    func testDepthwiseIsConv2DWithAGroupPerChannel() throws {
        for (c, m, stride, padding) in [(3, 2, 1, Conv2D.Padding.same), (12, 1, 2, .valid), (5, 3, 2, .same)] {
            let depthwise = try DepthwiseConv2D(name: "d", input: [7, 8, c], kernel: Window(3, 3), multiplier: m, stride: stride,
                                                padding: padding, random: &random)
            let grouped = try Conv2D(name: "g", input: [7, 8, c], filters: c * m, kernel: Window(3, 3), stride: stride,
                                     padding: padding, groups: c, random: &random)
            grouped.weight.value = depthwise.weight.value.reshaped(grouped.weight.value.shape)
            depthwise.bias.value = randomTensor([c * m])
            grouped.bias.value = depthwise.bias.value
            let x = randomTensor([2, 7, 8, c])
            let y = depthwise.forward(x, training: true)
            assertClose(y, grouped.forward(x, training: true), "outputs, \(c) channels × \(m)")
            let dy = randomTensor(y.shape)
            assertClose(depthwise.backward(dy), grouped.backward(dy), "input gradients, \(c) channels × \(m)")
            assertClose(depthwise.weight.gradient.reshaped(grouped.weight.value.shape), grouped.weight.gradient,
                        "kernel gradients, \(c) channels × \(m)")
            assertClose(depthwise.bias.gradient, grouped.bias.gradient, "bias gradients, \(c) channels × \(m)")
        }
    }

    func testGroupsMustDivideChannelsAndFilters() {
        XCTAssertThrowsError(try Conv2D(name: "g", input: [5, 5, 6], filters: 8, kernel: Window(3, 3), stride: 1, padding: .valid,
                                        groups: 4, random: &random)) {
            XCTAssertEqual(($0 as? ShapeError)?.message, "groups 4 must divide the input's 6 channels")
        }
        XCTAssertThrowsError(try Conv2D(name: "g", input: [5, 5, 6], filters: 8, kernel: Window(3, 3), stride: 1, padding: .valid,
                                        groups: 3, random: &random)) {
            XCTAssertEqual(($0 as? ShapeError)?.message, "groups 3 must divide the 8 filters")
        }
        XCTAssertThrowsError(try DepthwiseConv2D(name: "d", input: [2, 2, 3], kernel: Window(3, 3), multiplier: 1, stride: 1,
                                                 padding: .valid, random: &random)) {
            XCTAssertEqual(($0 as? ShapeError)?.message, "a 3x3 kernel does not fit a 2x2 input")
        }
        XCTAssertThrowsError(try SeparableConv2D(name: "s", input: [8, 3], filters: 2, kernel: Window(3, 3), multiplier: 1, stride: 1,
                                                 padding: .valid, random: &random)) {
            XCTAssertEqual(($0 as? ShapeError)?.message, "separable needs an input of height×width×channels, not 8x3")
        }
    }

    /// Weights and multiply-adds counted by hand, and what a full conv2d costs.
    func testCountsAgainstHandCounts() throws {
        let grouped = try Conv2D(name: "g", input: [10, 10, 8], filters: 16, kernel: Window(3, 3), stride: 1, padding: .valid,
                                 groups: 4, random: &random)
        XCTAssertEqual(grouped.parameterCount, 3 * 3 * 2 * 16 + 16)
        XCTAssertEqual(grouped.multiplyAdds, 8 * 8 * 3 * 3 * 2 * 16)
        XCTAssertEqual(grouped.fullConvolution, FullConvolutionCost(parameters: 3 * 3 * 8 * 16 + 16, multiplyAdds: 64 * 9 * 8 * 16))
        let depthwise = try DepthwiseConv2D(name: "d", input: [10, 10, 8], kernel: Window(3, 3), multiplier: 2, stride: 1,
                                            padding: .same, random: &random)
        XCTAssertEqual(depthwise.parameterCount, 9 * 8 * 2 + 16)
        XCTAssertEqual(depthwise.multiplyAdds, 100 * 9 * 16)
        XCTAssertEqual(depthwise.unsharedParameters, 100 * (9 * 16 + 16))
        XCTAssertEqual(depthwise.fullConvolution, FullConvolutionCost(parameters: 9 * 8 * 16 + 16, multiplyAdds: 100 * 9 * 8 * 16))
        let separable = try SeparableConv2D(name: "s", input: [10, 10, 8], filters: 32, kernel: Window(3, 3), multiplier: 1,
                                            stride: 1, padding: .valid, random: &random)
        XCTAssertEqual(separable.parameterCount, 9 * 8 + 8 * 32 + 32)
        XCTAssertEqual(separable.multiplyAdds, 64 * 9 * 8 + 64 * 8 * 32)
        XCTAssertEqual(try SeparableSpec(filters: 32, kernel: Window(3, 3)).parameterCount(input: [10, 10, 8]), separable.parameterCount)
        XCTAssertEqual(try DepthwiseSpec(kernel: Window(3, 3), multiplier: 2).parameterCount(input: [10, 10, 8]),
                       depthwise.parameterCount)
        XCTAssertEqual(try Conv2DSpec(filters: 16, kernel: Window(3, 3), activation: .linear, stride: 1, padding: .valid, groups: 4)
            .parameterCount(input: [10, 10, 8]), grouped.parameterCount)
    }
}

/// Grouped, depthwise and separable convolutions against Keras 3's Conv2D
/// (`groups`), DepthwiseConv2D and SeparableConv2D, on weights and outputs
/// Keras wrote (Fixtures/make_keras_grouped.py made the file once).
final class GroupedKerasTests: XCTestCase {
    func testOutputsMatchKeras() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/keras-grouped.safetensors")
        let file = try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "keras-grouped.safetensors")
        let x = try XCTUnwrap(file.tensors["input"])
        XCTAssertEqual(x.shape, [2, 7, 6, 6])
        var random = RandomGenerator(seed: 1)
        let input = [7, 6, 6]
        let cases: [(String, any LayerSpec)] = [
            ("groups3", Conv2DSpec(filters: 6, kernel: Window(3, 3), activation: .linear, stride: 1, padding: .valid, groups: 3)),
            ("groups2_stride2_same", Conv2DSpec(filters: 4, kernel: Window(3, 2), activation: .linear, stride: 2, padding: .same,
                                                groups: 2)),
            ("groups2_wide", Conv2DSpec(filters: 64, kernel: Window(3, 3), activation: .linear, stride: 1, padding: .same, groups: 2)),
            ("depthwise", DepthwiseSpec(kernel: Window(3, 3), padding: .same)),
            ("depthwise_m2_stride2", DepthwiseSpec(kernel: Window(2, 3), multiplier: 2, stride: 2)),
            ("separable", SeparableSpec(filters: 5, kernel: Window(3, 3), padding: .same)),
            ("separable_m2_stride2", SeparableSpec(filters: 4, kernel: Window(3, 3), multiplier: 2, stride: 2)),
        ]
        for (key, spec) in cases {
            let layer = try spec.build(name: key, input: input, random: &random)[0]
            for p in layer.parameters {
                let stored = try XCTUnwrap(file.tensors["\(key).\(p.name)"], "\(key).\(p.name)")
                XCTAssertEqual(stored.shape, p.value.shape, "\(key).\(p.name): Keras's layout")
                p.value = stored
            }
            let expected = try XCTUnwrap(file.tensors["\(key).output"])
            let y = layer.forward(x, training: false)
            XCTAssertEqual(y.shape, expected.shape, key)
            let worst = zip(y.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-5, "\(key): largest difference from Keras \(worst)")
        }
    }
}
