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
            let input = ["dense": "64", "rnn": "10x3", "lstm": "10x3", "gru": "10x3", "conv1d": "10x3",
                         "maxpool1d": "10x3"][s.keyword] ?? "8x8x3"
            let code = "model m {\n  input \(input)\n  \(s.example)\n}"
            let result = LoomInterpreter().execute(code, output: CapturedOutput())
            guard case .ok = result else { XCTFail("`\(s.example)` on \(input): \(result)"); continue }
        }
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

    /// Each family writes back a line that reads as the same spec.
    func testEveryBuiltLayerIsWrittenBackAsTheSameLine() throws {
        let lines = ["dense 7 relu", "dense 3 linear", "conv2d 4 3x2 tanh stride 2 padding same", "maxpool 2x2",
                     "maxpool 3x2 stride 1", "avgpool 2x2 stride 2", "flatten", "dropout 0.25",
                     "rnn 5 tanh", "lstm 7 relu sequences", "gru 3 sigmoid", "lstm 4 tanh sequences bidirectional", "conv1d 8 3 relu stride 1 padding same",
                     "maxpool1d 2", "maxpool1d 3 stride 1", "globalpool max", "globalpool avg", "threshold 0.1",
                     "kwta 10%", "kwta 5 boost 1.5 inference 20% global", "activity l1 0.001"]
        for line in lines {
            let spec = try Layers.spec(line)
            XCTAssertEqual(Layers.definition(of: spec), line)
            // The same arguments, each named and in reverse order, read as the same spec, field by field.
            XCTAssertEqual(String(reflecting: try Layers.spec(namedInReverse(line))), String(reflecting: spec), line)
        }
        XCTAssertEqual(try Layers.spec("conv2d 4 3") as? Conv2DSpec,
                       Conv2DSpec(filters: 4, kernel: Window(3, 3), activation: .linear, stride: 1, padding: .valid))
        XCTAssertEqual(try Layers.spec("maxpool") as? PoolingSpec, PoolingSpec(mode: .max, size: Window(2, 2), stride: nil))
        let covered = Set(lines.map { String($0.split(separator: " ")[0]) })
        let built = Set(Layers.all.filter { $0.keyword != "input" }.map(\.keyword))
        XCTAssertEqual(covered, built, "a built layer family is missing from this test")
    }

    func testArgumentsTakeDefaultsFromTheSignatureAndCheckRanges() {
        XCTAssertEqual(error("set threads 0")?.value, "threads must be between 1 and 256, not 0")
        XCTAssertEqual(error("set width 5")?.value, "width must be between 20 and 1000, not 5")
        XCTAssertEqual(error("data g = glyphs n 2.5")?.value, "n must be a whole number, not 2.5")
        // `glyphs` without options: the signature's 1000 images of 28x28.
        run("data g = glyphs")
        XCTAssertEqual(value("g"), "g: data, 1000 samples of 28x28x1, 10 classes")
    }
}
