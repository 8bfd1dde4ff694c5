import LoomCore
import LoomLang
import LoomEngine
import XCTest

/// The statement and layer tables: one binding per form, and every form's
/// example runs.
final class BindingTests: LoomTestCase {
    func testEveryFormHasOneBinding() {
        let titles = Statements.all.map(\.title)
        XCTAssertEqual(Set(titles).count, titles.count, "a form is bound twice")
        let layerWords = Layers.all.map(\.keyword)
        XCTAssertEqual(Set(layerWords).count, layerWords.count, "a layer family is bound twice")
    }

    /// Every form's own example parses and reaches its handler: it runs, or
    /// fails only on what a fresh session lacks (the names and files it uses).
    func testEveryFormsExampleReachesItsHandler() {
        for s in Statements.all {
            let result = LoomInterpreter().execute(s.example, output: CapturedOutput())
            if case .error(let e) = result {
                XCTAssertTrue(["NameError", "IOError"].contains(e.name), "`\(s.title)`: \(e.name): \(e.value)")
            }
        }
    }

    func testEveryLayerExampleBuilds() {
        for s in Layers.all where s.keyword != "input" {
            let result = LoomInterpreter().execute(Self.model(of: s), output: CapturedOutput())
            guard case .ok = result else { XCTFail("`\(s.example)`: \(result)"); continue }
        }
    }

    /// A cell defining `m`, a model of the family's example on an input it takes.
    static func model(of family: Signature) -> String {
        let input = ["dense": "64", "rnn": "10x3", "lstm": "10x3", "gru": "10x3", "conv1d": "10x3", "local1d": "10x3",
                     "maxpool1d": "10x3", "reshape": "784", "lista": "8x8x1"][family.keyword] ?? "8x8x3"
        // `lista … from D` starts from a dictionary of the session.
        let setup = family.keyword == "lista" ? "data p = patches n 20 size 8\ndictionary D = learn p atoms 4 sparsity 1 iterations 1\n" : ""
        return setup + "model m {\n  input \(input)\n  \(family.example)\n}"
    }

    /// A choice's default must be one of its words, or a left-out option
    /// could not be read.
    func testEveryChoiceDefaultIsOneOfItsChoices() {
        for form in Statements.all + Layers.all {
            for p in form.parameters {
                guard case .choice(let options) = p.kind, let value = p.defaultValue else { continue }
                XCTAssertTrue(options.contains(value), "\(form.title) \(p.name): default \(value) not in \(options)")
            }
        }
    }

    /// Choices are the enums' own cases, so one added to an enum is offered
    /// and read, and never silently becomes another.
    func testChoicesAreTheEnumsCases() {
        func options(_ form: Signature?, _ name: String) -> [String] {
            guard case .choice(let o)? = form?.parameter(named: name)?.kind else { return [] }
            return o
        }
        let train = Statements.all.first { $0.title == "train" }
        XCTAssertEqual(options(train, "optimizer"), OptimizerKind.allCases.map(\.rawValue))
        XCTAssertEqual(options(train, "loss"), Loss.allCases.map(\.rawValue))
        XCTAssertEqual(options(Layers.form(of: "dense"), "activation"), ActivationFunction.allCases.map(\.rawValue))
        XCTAssertEqual(options(Layers.form(of: "conv2d"), "padding"), Conv2D.Padding.allCases.map(\.rawValue))
    }

    /// `line` with each argument introduced by its name, in reverse order:
    /// `conv2d 4 3x2 tanh stride 2` as `conv2d stride 2 activation tanh kernel 3x2 filters 4`.
    func namedInReverse(_ line: String) throws -> String {
        var words = line.split(separator: " ").map(String.init)[...]
        let form = try XCTUnwrap(Layers.form(of: words.removeFirst()))
        var positionals = form.parameters.filter(\.positional)[...]
        var arguments: [String] = []
        while let word = words.popFirst() {
            if let p = form.parameter(named: word) {
                arguments.append(p.kind == .flag ? word : "\(word) \(try XCTUnwrap(words.popFirst()))")
            } else {
                arguments.append("\(try XCTUnwrap(positionals.popFirst()).name) \(word)")
            }
        }
        return ([form.keyword] + arguments.reversed()).joined(separator: " ")
    }

    /// Every family, with random values its fields allow: the written line
    /// reads back as the same spec, and is written again the same way.
    func testEveryLayerFormRoundTripsWithRandomValues() throws {
        var random = SplitMix64(seed: 23)
        for form in Layers.all where form.keyword != "input" {
            for _ in 0..<200 {
                let spec = try XCTUnwrap(Layers.randomSpec(form.keyword, random: &random), form.keyword)
                let line = try XCTUnwrap(Layers.definition(of: spec), "\(form.keyword): no writer for \(spec)")
                XCTAssertEqual(line.split(separator: " ").first.map(String.init), form.keyword)
                let read = try Layers.spec(line)
                XCTAssertTrue(Layers.same(read, spec), "`\(line)` reads as \(read), not \(spec)")
                // The same arguments, each named and in reverse order, read as the same spec.
                let named = try namedInReverse(line)
                XCTAssertTrue(Layers.same(try Layers.spec(named), spec), "`\(named)` does not read as `\(line)`")
                XCTAssertEqual(Layers.definition(of: read), line)
            }
        }
    }

    /// Every statement form, with random values its fields allow: the
    /// written line reads back through the same fields and is written the
    /// same way, so no field is read into one property and written from another.
    func testEveryStatementFormRoundTripsWithRandomValues() throws {
        var random = SplitMix64(seed: 23)
        var lines = Set<String>()
        for form in Statements.all {
            for _ in 0..<100 {
                // Block forms read their bodies themselves and have no fields.
                guard let line = Statements.randomLine(form.title, random: &random) else { break }
                XCTAssertTrue(line.hasPrefix(form.keyword), line)
                XCTAssertEqual(try Statements.rewrite(line), line, "\(form.title): \(line)")
                lines.insert(line)
            }
        }
        XCTAssertGreaterThan(lines.count, 2000, "the draws vary")
        // Arguments the fuzzers set are written as given; nil leaves one out.
        XCTAssertEqual(Statements.randomLine("split", given: ["data": "g", "train": "0.5"], random: &random), "split g train 0.5")
        XCTAssertEqual(Statements.randomLine("show codes", given: ["codes": "C", "sample": nil], random: &random), "show codes C")
    }

    /// Handlers find an argument's name through the field bound to the
    /// property they read: their messages name the option as written.
    func testHandlersNameArgumentsThroughTheirFields() {
        run("data pix = patches n 30 size 4\ndictionary D = learn pix atoms 4 sparsity 2 iterations 1\n"
            + "codes C = encode pix with D omp sparsity 2\nrecord runs k=1 acc=0.5")
        XCTAssertEqual(error("show codes C sample 31")?.value, "sample must be between 1 and 30, not 31")
        XCTAssertEqual(error("show codes C sample 0")?.value, "sample must be between 1 and 30, not 0")
        XCTAssertEqual(error("codes E = encode pix with D threshold 0.1 error 0.1")?.value, "`error` goes with omp, not threshold")
        XCTAssertEqual(error("show table runs x k")?.value, "`show table` needs y")
    }

    /// Options at their defaults are left out of the line; positional
    /// values always stand, in order.
    func testWrittenLinesLeaveOutDefaults() throws {
        let lines = ["conv2d 4 3x2 tanh stride 1 padding valid": "conv2d 4 3x2 tanh",
                     "conv2d 4 3 padding same sparse 50%": "conv2d 4 3x3 linear padding same sparse 50%",
                     "maxpool": "maxpool 2x2", "kwta 5 boost 0": "kwta 5", "lstm 4 sequences": "lstm 4 tanh sequences",
                     "activity l1 0.00001": "activity l1 1e-05", "dense 3": "dense 3 linear"]
        for (line, written) in lines {
            XCTAssertEqual(Layers.definition(of: try Layers.spec(line)), written, line)
        }
        XCTAssertEqual(try Layers.spec("conv2d 4 3") as? Conv2DSpec,
                       Conv2DSpec(filters: 4, kernel: Window(3, 3), activation: .linear, stride: 1, padding: .valid))
        XCTAssertEqual(try Layers.spec("maxpool") as? PoolingSpec, PoolingSpec(mode: .max, size: Window(2, 2), stride: nil))
    }

    /// Bounds are declared beside each field: the reader refuses what they
    /// leave out, naming the option and its bounds.
    func testLayerFieldsRefuseValuesOutsideTheirBounds() {
        func message(_ line: String) -> String? {
            do { _ = try Layers.spec(line); return nil } catch { return error.message }
        }
        XCTAssertEqual(message("dense 0"), "units must be between 1 and 1000000, not 0")
        XCTAssertEqual(message("dropout 1"), "rate must be at least 0 and below 1, not 1")
        XCTAssertEqual(message("threshold -0.5"), "epsilon must be 0 or more, not -0.5")
        XCTAssertEqual(message("conv2d 3 3 stride 65"), "stride must be between 1 and 64, not 65")
        XCTAssertEqual(message("dense 3 sparse 100%"), "sparse must be at least 0% and below 100%, not 100%")
        XCTAssertEqual(message("layernorm epsilon 0"), "epsilon must be above 0, not 0")
    }

    func testArgumentsTakeDefaultsFromTheSignatureAndCheckRanges() {
        XCTAssertEqual(error("seed 1e16")?.value, "the seed must be between -9000000000000000 and 9000000000000000, not 1e+16")
        XCTAssertEqual(error("data g = glyphs n 20 size 8\nsplit g train 1")?.value, "train must be above 0% and below 100%, not 1")
        XCTAssertEqual(error("sleep -1")?.value, "seconds must be between 0 and 86400, not -1")
        XCTAssertEqual(error("set threads 0")?.value, "threads must be between 1 and 256, not 0")
        XCTAssertEqual(error("set width 5")?.value, "width must be between 20 and 1000, not 5")
        XCTAssertEqual(error("data g = glyphs n 2.5")?.value, "n must be a whole number, not 2.5")
        // `glyphs` without options: the signature's 1000 images of 28x28.
        run("data g = glyphs")
        XCTAssertEqual(value("g"), "g: data, 1000 samples of 28x28x1, 10 classes")
    }

    /// Every schedule form, as the fuzzers draw them, trains and shows its
    /// learning rate; numbers a count of epochs cannot hold are refused.
    func testEveryScheduleFormTrains() {
        run("seed 1\ndata g = glyphs n 40 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
        var random = SplitMix64(seed: 5)
        var words = Set<String>()
        for _ in 0..<12 {
            let schedule = Schedules.random(&random)
            words.insert(String(schedule.split(separator: " ")[0]))
            let result = run("train m on g epochs 2 schedule \(schedule)")
            guard case .ok = result else { return XCTFail("schedule \(schedule): \(result)") }
        }
        XCTAssertEqual(words, ["step", "cosine", "warmup"])
        XCTAssertEqual(error("train m on g schedule warmup 1e12")?.value, "N must be below 1,000,000,000")
        XCTAssertEqual(error("train m on g schedule step 1e300 0.5")?.value, "EVERY must be below 1,000,000,000")
    }
}
