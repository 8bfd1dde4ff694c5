import LoomEngine
import XCTest

/// A shared weight's gradient is the sum of its uses' gradients, checked
/// against the unshared twin (the same model with a copy of the weights per
/// use): `share` adds the copies' gradients, `tied` adds the decoder's
/// transposed. Also checked by finite differences for the layers the other
/// sharing tests do not cover (conv1d, gru), and the atoms `show atoms` draws.
extension SharedParameterTests {
    /// `specs` on `input`, each with the block it shares (nil: its own weights).
    func model(_ input: [Int], _ specs: [(any LayerSpec, String?)], seed: UInt64 = 5) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: input, random: RandomGenerator(seed: seed))
        for (spec, lender) in specs { try m.add(spec, sharing: lender) }
        return m
    }

    /// Gives `twin` the values `shared` uses, block by block (where shapes
    /// agree), then `adjust`s it, then runs both forward and backward on one
    /// input and one output weighting.
    func backwardBoth(_ shared: Sequential, _ twin: Sequential, input: [Int], adjust: () -> Void = {}) {
        for (s, t) in zip(shared.blocks, twin.blocks) {
            for (p, q) in zip(s.parameters, t.parameters) where p.value.shape == q.value.shape { q.value = p.value }
        }
        adjust()
        let x = randomTensor([3] + input)
        let w = randomTensor([3] + shared.outputShape)
        for m in [shared, twin] {
            for p in m.parameters { p.zeroGradient() }
            _ = m.forward(x, training: true)
            m.backward(w)
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for i in a.indices {
            XCTAssertEqual(a[i], b[i], accuracy: 1e-5 * max(1, abs(b[i])), "\(what)[\(i)]", file: file, line: line)
        }
    }

    func testASharedConv1DAndGRUGetTheSumOfTheirUsesGradients() throws {
        let conv = Conv1DSpec(filters: 3, kernel: 2, activation: .tanh, padding: .same)
        let gru = RecurrentSpec(cell: GRU.self, units: 3, returnsSequences: true)
        let layers: [(any LayerSpec, String?)] = [(conv, nil), (conv, "conv1"), (gru, nil), (gru, "gru1")]
        let shared = try model([5, 3], layers)
        let twin = try model([5, 3], layers.map { ($0.0, nil) }, seed: 99)
        XCTAssertEqual(twin.parameters.count, 2 * shared.parameters.count)
        backwardBoth(shared, twin, input: [5, 3])
        for (first, second) in [(0, 1), (2, 3)] {
            for (j, p) in shared.blocks[first].parameters.enumerated() {
                let sum = zip(twin.blocks[first].parameters[j].gradient.storage, twin.blocks[second].parameters[j].gradient.storage).map(+)
                assertClose(p.gradient.storage, sum, "\(shared.blocks[first].name).\(p.name)")
            }
        }
    }

    /// The encoder's kernel gets its own gradient plus the decoder's, transposed.
    func testATiedKernelGetsTheEncodersGradientPlusTheDecodersTransposed() throws {
        let shared = try model([6], [(DenseSpec(units: 4, activation: .tanh), nil), (DenseSpec(units: 6, activation: .sigmoid, tied: "dense1"), nil)])
        let twin = try model([6], [(DenseSpec(units: 4, activation: .tanh), nil), (DenseSpec(units: 6, activation: .sigmoid), nil)], seed: 98)
        let kernel = shared.blocks[0].parameters[0]
        // The twin's decoder kernel is the encoder's transposed: [4, 6] from [6, 4].
        let transposed = twin.blocks[1].parameters[0]
        backwardBoth(shared, twin, input: [6]) {
            for i in 0..<6 { for k in 0..<4 { transposed.value[k * 6 + i] = kernel.value[i * 4 + k] } }
        }
        let encoder = twin.blocks[0].parameters[0].gradient, decoder = transposed.gradient
        let expected = (0..<24).map { n in encoder[n] + decoder[(n % 4) * 6 + n / 4] }
        assertClose(kernel.gradient.storage, expected, "dense1.kernel")
        assertClose(shared.blocks[1].parameters[1].gradient.storage, twin.blocks[1].parameters[1].gradient.storage, "dense2.bias")
    }

    /// Every stored weight against central differences (`checkGradients`).
    func testSharedConv1DAndGRUWeightsMatchFiniteDifferences() throws {
        let conv = Conv1DSpec(filters: 2, kernel: 2, activation: .tanh, padding: .same)
        let gru = RecurrentSpec(cell: GRU.self, units: 2, returnsSequences: true)
        checkGradients(try model([4, 2], [(conv, nil), (conv, "conv1"), (gru, nil), (gru, "gru1")]), input: randomTensor([2, 4, 2]))
    }

    /// An encoder's atom u is column u of its kernel; an untied decoder's atom
    /// i is row i of its; a tied decoder's atoms are its encoder's.
    func testAtomsAreAnEncodersColumnsAndADecodersRows() throws {
        let m = try model([6], [(DenseSpec(units: 4, activation: .tanh), nil), (DenseSpec(units: 6, activation: .linear, tied: "dense1"), nil),
                                (DenseSpec(units: 4, activation: .tanh), nil), (DenseSpec(units: 6, activation: .linear), nil),
                                (DenseSpec(units: 3, activation: .tanh), nil), (DenseSpec(units: 5, activation: .tanh), nil)])
        let kernel = m.blocks[0].parameters[0].value, decoderKernel = m.blocks[3].parameters[0].value
        let encoder = try m.atoms(of: m.blocks[0])
        XCTAssertEqual(encoder.role, .encoder)
        XCTAssertEqual([encoder.count, encoder.length], [4, 6])
        XCTAssertEqual(encoder.values, (0..<4).flatMap { u in (0..<6).map { kernel[$0 * 4 + u] } })
        let tied = try m.atoms(of: m.blocks[1])
        XCTAssertEqual(tied.role, .decoder)
        XCTAssertEqual(tied.values, encoder.values)
        let untied = try m.atoms(of: m.blocks[3])
        XCTAssertEqual(untied.role, .decoder)
        XCTAssertEqual(untied.values, decoderKernel.storage)
        XCTAssertEqual(try m.atoms(of: m.blocks[2]).role, .encoder, "any layer with the input's size of inputs")
        XCTAssertThrowsError(try m.atoms(of: m.blocks[5]), "3 to 5 values, and the input has 6")
    }

    /// A complete autoencoder (a code as wide as the input): its decoders,
    /// whose inputs also number the input's values, are drawn as decoders.
    func testACompleteAutoencodersDecodersAreDecoders() throws {
        let m = try model([4], [(DenseSpec(units: 4, activation: .tanh), nil), (DenseSpec(units: 4, activation: .linear, tied: "dense1"), nil),
                                (DenseSpec(units: 4, activation: .linear), nil)])
        let encoder = try m.atoms(of: m.blocks[0])
        XCTAssertEqual(encoder.role, .encoder)
        let tied = try m.atoms(of: m.blocks[1])
        XCTAssertEqual(tied.role, .decoder)
        XCTAssertEqual(tied.values, encoder.values, "a tied decoder's atoms are its encoder's")
        let untied = try m.atoms(of: m.blocks[2])
        XCTAssertEqual(untied.role, .decoder)
        XCTAssertEqual(untied.values, m.blocks[2].parameters[0].value.storage)
    }
}
