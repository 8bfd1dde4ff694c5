import LoomCore
import LoomLang
import XCTest

final class ParserTests: XCTestCase {
    func parse(_ s: String) throws -> [Statement] { try Parser.parse(s) }

    func command(_ s: String) throws -> Command {
        guard case .command(let c) = try parse(s).first else { throw XCTSkip("not a command: \(s)") }
        return c
    }

    func error(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> LoomError? {
        do {
            _ = try Parser.parse(s)
            XCTFail("parsed \(s.debugDescription)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// The four reference examples parse as written: Keras's MNIST example, the
    /// LSTM on sine waves, scikit-learn's sparse-coding example and the
    /// thresholding network.
    func testEveryReferenceExampleParses() throws {
        let cnn = """
        seed 7
        data digits = glyphs n 3000 size 28
        split digits train 0.8
        model cnn {
          input 28x28x1
          conv2d 32 3x3 relu
          maxpool 2
          conv2d 64 3x3 relu
          maxpool 2
          flatten
          dense 128 relu
          dense 10 softmax
        }
        summary cnn
        train cnn on digits.train epochs 10 batch 32 optimizer adam lr 0.001 loss crossentropy
        evaluate cnn on digits.test
        show filters cnn.conv1
        show sparsity cnn on digits.test
        """
        let statements = try parse(cnn)
        XCTAssertEqual(statements.count, 9)
        XCTAssertEqual(bound(statements[1]), "data glyphs: n=3000 name=digits size=28")
        XCTAssertEqual(bound(statements[2]), "split: data=digits train=0.8")
        guard case .model(let name, let layers, _) = statements[3] else { return XCTFail("not a model") }
        XCTAssertEqual(name, "cnn")
        XCTAssertEqual(layers.map(bound), ["input: shape=28x28x1", "conv2d: activation=relu filters=32 kernel=3x3",
                                           "maxpool: size=2", "conv2d: activation=relu filters=64 kernel=3x3",
                                           "maxpool: size=2", "flatten: ", "dense: activation=relu units=128",
                                           "dense: activation=softmax units=10"])
        XCTAssertEqual(bound(statements[5]),
                       "train: batch=32 epochs=10 loss=crossentropy lr=0.001 model=cnn on=digits.train optimizer=adam")
        XCTAssertEqual(bound(statements[8]), "show sparsity: model=cnn on=digits.test")
        let rest = """
        data waves = sines n 2000 steps 10 classes 10
        model seq {
          input 10x1
          lstm 50 tanh
          dense 10 softmax
        }
        train seq on waves.train epochs 10 batch 32 optimizer adam
        data pix = patches n 2000 size 8
        dictionary D = learn pix atoms 100 sparsity 5 method ksvd iterations 10
        codes C = encode pix with D omp sparsity 5
        show atoms D
        show codes C
        model wide {
          input 28x28x1
          flatten
          dense 256 relu
          threshold 0.1
          dense 256 relu
          kwta 10%
          dense 10 softmax
        }
        prune wide 80%
        """
        let planned = try parse(rest)
        XCTAssertEqual(planned.count, 10)
        XCTAssertEqual(bound(planned[0]), "data sines: classes=10 n=2000 name=waves steps=10")
        XCTAssertEqual(bound(planned[5]), "codes encode: data=pix method=omp name=C sparsity=5 with=D")
        guard case .model(_, let wide, _) = planned[8] else { return XCTFail("not a model") }
        XCTAssertEqual(wide.map(bound).suffix(4), ["threshold: epsilon=0.1", "dense: activation=relu units=256",
                                                   "kwta: k=10%", "dense: activation=softmax units=10"])
        XCTAssertEqual(bound(planned[9]), "prune: amount=80% model=wide")
    }

    /// A statement's form and what each argument bound to, sorted by name.
    func bound(_ statement: Statement) -> String {
        guard case .command(let c) = statement else { return "not a command" }
        return bound(c)
    }

    func bound(_ c: Command) -> String {
        func text(_ e: Expr) -> String {
            switch e.kind {
            case .number(let x): return x == x.rounded() ? String(Int(x)) : String(x)
            case .percent(let p): return "\(Int(p))%"
            case .shape(let dims): return dims.map(String.init).joined(separator: "x")
            case .string(let s): return "\"\(s)\""
            case .name(let parts): return parts.joined(separator: ".")
            default: return "\(e.kind)"
            }
        }
        return c.signature.title + ": " + c.arguments.keys.sorted().map { "\($0)=\(text(c.arguments[$0]!))" }.joined(separator: " ")
    }

    func testPositionalShorthandEqualsNamedOptions() throws {
        guard case .model(_, let short, _) = try parse("model a {\n conv2d 32 3x3 relu\n}")[0],
              case .model(_, let named, _) = try parse("model a {\n conv2d filters 32 kernel 3x3 activation relu\n}")[0]
        else { return XCTFail() }
        XCTAssertEqual(short[0].arguments.mapValues(\.kind), named[0].arguments.mapValues(\.kind))
        XCTAssertEqual(short[0].argument("kernel")?.kind, .shape([3, 3]))
        XCTAssertEqual(short[0].argument("activation")?.name, ["relu"])
    }

    func testNamedOptionsAndDottedNames() throws {
        let c = try command("train cnn on digits.train epochs n * 2 lr 1e-3")
        XCTAssertEqual(c.signature.title, "train")
        XCTAssertEqual(c.argument("model")?.name, ["cnn"])
        XCTAssertEqual(c.argument("on")?.name, ["digits", "train"])
        guard case .chain(_, let rest)? = c.argument("epochs")?.kind, rest.map(\.op) == ["*"] else { return XCTFail("epochs not an expression") }
        XCTAssertEqual(c.argument("lr")?.kind, .number(0.001))
    }

    func testFormsChosenBySecondOrThirdWord() throws {
        XCTAssertEqual(try command("show filters cnn.conv1").signature.title, "show filters")
        XCTAssertEqual(try command("set plots svg").signature.title, "set plots")
        let data = try command("data d = csv \"x.csv\" label first")
        XCTAssertEqual(data.signature.title, "data csv")
        XCTAssertEqual(data.argument("name")?.name, ["d"])
        XCTAssertEqual(data.argument("path")?.kind, .string("x.csv"))
    }

    func testLiterals() throws {
        guard case .expression(let e) = try parse("10%")[0] else { return XCTFail() }
        XCTAssertEqual(e.kind, .percent(10))
        guard case .assignment(let name, let v, _) = try parse("s = 28x28x1")[0] else { return XCTFail() }
        XCTAssertEqual(name, "s")
        XCTAssertEqual(v.kind, .shape([28, 28, 1]))
    }

    func testArithmeticPrecedence() throws {
        guard case .expression(let e) = try parse("1 + 2 * 3")[0], case .chain(_, let sum) = e.kind, sum.map(\.op) == ["+"],
              case .chain(_, let product) = sum[0].operand.kind, product.map(\.op) == ["*"] else { return XCTFail("wrong precedence") }
    }

    func testMisspeltStatementSuggestsTheWord() {
        let e = error("x = 1\ntrian cnn on d")
        XCTAssertEqual(e?.kind, .syntax)
        XCTAssertEqual(e?.suggestion, "train")
        XCTAssertEqual(e?.range?.line, 2)
        XCTAssertEqual(e?.range?.column, 1)
    }

    func testMisspeltLayerSuggestsTheLayer() {
        let e = error("model m {\n  input 4\n  conv2 32 3x3\n}")
        XCTAssertEqual(e?.suggestion, "conv2d")
        XCTAssertEqual(e?.message, "unknown layer `conv2`")
        XCTAssertEqual(e?.range?.line, 3)
        XCTAssertEqual(e?.range?.column, 3)
    }

    func testBadChoiceNamesTheOptions() {
        let e = error("model m {\n  dense 10 relux\n}")
        XCTAssertEqual(e?.suggestion, "relu")
        XCTAssertTrue(e?.message.contains("expected one of relu, tanh") ?? false)
        XCTAssertEqual(e?.range?.column, 12)
    }

    func testMissingRequiredArgumentShowsUsage() {
        let e = error("train cnn epochs 3")
        XCTAssertTrue(e?.message.contains("needs `on DATA`") ?? false, e?.message ?? "")
    }

    func testUnknownOptionSuggestsTheClosest() {
        let e = error("train cnn on d epoch 3")
        XCTAssertEqual(e?.suggestion, "epochs")
        XCTAssertEqual(e?.range?.column, 16)
    }

    func testUnclosedModelPointsAtTheBrace() {
        let e = error("model m {\n  input 4")
        XCTAssertTrue(e?.message.contains("not closed") ?? false)
        XCTAssertEqual(e?.range?.line, 1)
        XCTAssertEqual(e?.range?.column, 9)
    }

    func testLexicalErrors() {
        XCTAssertTrue(error("print \"abc")?.message.contains("unterminated string") ?? false)
        XCTAssertTrue(error("x = 3x3x")?.message.contains("malformed shape") ?? false)
        XCTAssertTrue(error("x = 12abc")?.message.contains("malformed number") ?? false)
        XCTAssertEqual(error("x = 1 @ 2")?.range?.column, 7)
        // A backslash before a line's end does not carry a string onto the next
        // line (where the lexer's line count would no longer follow it).
        let e = error("x = \"a\\\nb\"\ny = 1")
        XCTAssertEqual(e?.message, "unterminated string; close it with \" on the same line")
        XCTAssertEqual(e?.range.map { [$0.line, $0.column] }, [1, 5])
    }

    func testStatementWordsCannotBeVariables() {
        XCTAssertTrue(error("train = 3")?.message.contains("statement word") ?? false)
    }

    func testTrailingTokensAreRejected() {
        XCTAssertNotNil(error("reset now"))
        XCTAssertNotNil(error("}"))
        XCTAssertNotNil(error("(1 + 2"))
        XCTAssertNotNil(error("epochs = = 3"))
    }

    func testErrorRendersTheLineWithACaret() {
        let source = "x = 1\n  trian cnn"
        let rendered = error(source)!.render(source: source)
        XCTAssertEqual(rendered, [
            "SyntaxError: unknown statement `trian`; did you mean `train`?",
            "  --> line 2, column 3",
            "  |",
            "2 |   trian cnn",
            "  |   ^^^^^",
        ])
    }

    func testCommentsBlankLinesAndContinuations() throws {
        XCTAssertEqual(try parse("# a comment\n\nx = 1  # trailing\n\ny = x + \\\n 2\n").count, 2)
    }

    /// Random text of Loom's characters and words either parses or is a
    /// SyntaxError whose line and column are where its offset lies in the
    /// text (lines counted at each newline, a `\` continuation's included),
    /// so the caret of every error points inside the cell.
    func testRandomTextParsesOrPointsInsideItself() {
        var random = SplitMix64(seed: 23)
        let pieces = "{}[]()=+-*/\"'#%x.,0123456789 \n\n\t\r\\abcé→".map(String.init)
            + ["model m {\n", "for k in ", "quiet ", "dense 4 ", "train m on d ", "1e-3", "28x28x1", "10%"]
        var parsed = 0, refused = 0
        for _ in 0..<3000 {
            let source = (0..<random.below(40)).map { _ in pieces[random.below(pieces.count)] }.joined()
            do {
                _ = try Parser.parse(source)
                parsed += 1
            } catch {
                refused += 1
                let scalars = Array(source.unicodeScalars)
                guard error.kind == .syntax, let range = error.range, range.start <= range.end, range.end <= scalars.count else {
                    XCTFail("\(source.debugDescription): \(error.kind) \(error.message) at \(String(describing: error.range))")
                    continue
                }
                let before = scalars[..<range.start]
                let lineStart = before.lastIndex(of: "\n").map { $0 + 1 } ?? 0
                XCTAssertEqual(range.line, before.filter { $0 == "\n" }.count + 1, source.debugDescription)
                XCTAssertEqual(range.column, range.start - lineStart + 1, source.debugDescription)
                XCTAssertEqual(error.render(source: source).count, 5, "a caret under a line of the cell: \(source.debugDescription)")
            }
        }
        // Both outcomes are exercised.
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(refused, 1000)
    }
}

/// Hostile nesting gets an error pointing at it, never a crash.
final class NestingTests: LoomTestCase {
    func testDeepNestingIsASyntaxErrorNotACrash() {
        let parens = "x = " + String(repeating: "(", count: 6000) + "1" + String(repeating: ")", count: 6000)
        let e = error(parens)
        XCTAssertEqual(e?.name, "SyntaxError")
        XCTAssertEqual(e?.value, "nested too deeply: more than 200 parentheses, signs or loops inside each other")
        XCTAssertEqual(e?.traceback[1], "  --> line 1, column 205")
        XCTAssertEqual(error("y = " + String(repeating: "-", count: 100_000) + "1")?.name, "SyntaxError")
        // Through the other entry points a front end calls on every key press.
        XCTAssertEqual(loom.isComplete(parens), .invalid)
        guard case .error = loom.evaluate(expression: String(repeating: "(", count: 6000) + "1") else { return XCTFail() }
        // Deep but allowed, and long flat chains, still work.
        XCTAssertEqual(value(String(repeating: "(", count: 150) + "2" + String(repeating: ")", count: 150)), "2")
        XCTAssertEqual(value(Array(repeating: "1", count: 10_000).joined(separator: "+")), "10000")
    }
}
