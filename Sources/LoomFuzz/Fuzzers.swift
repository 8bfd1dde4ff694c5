import Jupyter
import LoomCore
import LoomLang
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Seeded fuzzers for the two places untrusted input enters: Loom source
/// (parser and evaluator) and bytes from a socket (framing, signatures,
/// JSON). Each case must end in a result or a clear error; a crash ends the
/// process, and a case that runs past its time budget is reported as a hang.
public struct Fuzzer {
    var random: SplitMix64

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// Programs to mutate: the statements of the tutorials and tests.
    public static let corpus: [String] = [
        "epochs = 5\nepochs * 2", "print \"hello\" 1 2", "warn \"x\"", "help", "help conv2d", "list", "set width 60",
        "set plots svg", "seed 3", "sleep 0.01", "clear", "x = 28x28x1", "10% * 3", "(1 + 2) * -3 / 4", "reset",
        "data g = glyphs n 40 size 10\nsplit g train 0.5",
        "model m {\n  input 10x10x1\n  conv2d 2 3x3 relu\n  maxpool 2\n  flatten\n  dense 10 softmax\n}",
        "train m on g.train epochs 1 batch 8", "evaluate m on g.test", "show filters m.conv1", "summary m",
        "show sparsity m on g.test", "predict m on g.test first 3 mistakes", "show weights m.dense1", "delete x",
        "data d = csv \"/nonexistent\"", "codes C = encode pix with D omp sparsity 5", "prune wide 80%",
        "data pix = patches n 30 size 4\ndictionary D = learn pix atoms 6 sparsity 2 iterations 2",
        "codes L = encode pix with D lasso alpha 0.1", "codes F = encode pix with D fista alpha 0.1 iterations 20 tolerance 0.001", "show atoms D first 3", "show codes C sample 2",
        "codes P = encode pix with D omp sparsity 2 patches size 4 pool sum grid 1",
        "compare D on pix omp sparsity 2", "r = compare D E on pix fista alpha 0.1 iterations 5\nprint r.D_error r.E_dead",
        "for k in 1 2 3 {\n  record runs k=k sq=k*k\n}\nshow table runs x k y sq", "time sleep 0.001", "time {\n  x = 1\n}",
        "r = evaluate m on g.test\nprint r.accuracy m.params g.samples", "model c = copy m fresh\ncompare m c on g.test",
        "train m on g.train epochs 3 validate g.test patience 1 restore schedule step 1 0.5",
        "for n in m w {\n  h = train n on g.train epochs 1\n}",
        "dictionary E = learn pix atoms 4 alpha 0.2 method online batch 7 center", "codes T = encode pix with D threshold 0.3",
        "model w {\n  input 4\n  dense 3 tanh as h\n  dropout 0.5\n  dense 2 softmax\n}", "show histogram w.h",
        "?conv2d", "train?", "?",
    ]

    static let fragments = ["{", "}", "=", "\n", "\"", "(", ")", "%", "x", "3x3", "-", "*", "/", "+", "1e309", "0",
                            "-1", "99999999999", ".", "..", "m.", "train", "model", "input", "dense", "on", " ", "#",
                            "é", "\u{0}", "\\", "'", "epochs", "batch 0", "set memory 16", "\t", "for", "in", "record",
                            "a=1", "r.", "copy", "time"]

    public mutating func program() -> String {
        var text = Array(Fuzzer.corpus[random.below(Fuzzer.corpus.count)].unicodeScalars)
        for _ in 0..<(1 + random.below(4)) {
            let at = random.below(text.count + 1)
            switch random.below(4) {
            case 0 where !text.isEmpty: text.remove(at: min(at, text.count - 1))
            case 1: text.insert(contentsOf: Fuzzer.fragments[random.below(Fuzzer.fragments.count)].unicodeScalars, at: at)
            case 2: text.insert(contentsOf: Fuzzer.corpus[random.below(Fuzzer.corpus.count)].unicodeScalars, at: at)
            default: text.insert(Unicode.Scalar(UInt8(32 + random.below(95))), at: at)
            }
        }
        return String(String.UnicodeScalarView(text))
    }

    public mutating func bytes(maxCount: Int) -> [UInt8] {
        (0..<random.below(maxCount + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Frames a socket could deliver: random, or a real message cut, grown,
    /// re-signed with the wrong key, or with wrong types in known fields.
    public mutating func frames(signer: Signer) -> [[UInt8]] {
        let builder = MessageBuilder(session: "fuzz")
        let contents: [JSONObject] = [["code": "1 + 1"], ["code": 5, "silent": "yes"], ["cursor_pos": -4, "code": .null],
                                      ["hist_access_type": "range", "session": "x"], [:]]
        let types = ["execute_request", "kernel_info_request", "complete_request", "inspect_request", "history_request",
                     "is_complete_request", "comm_open", "nonsense", ""]
        var message = builder.broadcast(types[random.below(types.count)], content: contents[random.below(contents.count)],
                                        parent: nil)
        message.identities = [Array("client".utf8)]
        var frames = message.wire(signedBy: signer).frames
        switch random.below(6) {
        case 0: return (0..<random.below(12)).map { _ in bytes(maxCount: 64) }
        case 1: frames[random.below(frames.count)] = bytes(maxCount: 200)
        case 2: frames.removeLast(random.below(frames.count))
        case 3: frames.append(contentsOf: (0..<random.below(5)).map { _ in bytes(maxCount: 32) })
        case 4:
            let i = min(frames.count - 1, 3 + random.below(4))
            if !frames[i].isEmpty { frames[i][random.below(frames[i].count)] ^= UInt8(1 << random.below(8)) }
        default: break
        }
        return frames
    }
}

/// What `FuzzRunner.programs` draws.
public enum ProgramKind: Sendable {
    case mutated, models, sparseCoding
    /// Long chains and deep or self-sharing values (`DeepPrograms`).
    case deep
}

/// Runs fuzz cases and counts outcomes.
public enum FuzzRunner {
    public struct Report: Sendable {
        public var cases = 0
        public var errors = 0
        public var hangs: [String] = []
        /// How many cases ended in each kind of error message (its first line, numbers as `#`).
        public var errorKinds: [String: Int] = [:]
    }

    /// Loom programs through the interpreter, each with a time budget after
    /// which the interrupt flag is raised; a case still running a second
    /// after that is a hang.
    /// `kind` chooses mutated programs, `Fuzzer.modelProgram`'s well-formed
    /// models, or `Fuzzer.codingProgram`'s sparse coding.
    public static func programs(count: Int, seed: UInt64, budget: Double = 2, kind: ProgramKind = .mutated,
                                before: (String) -> Void = { _ in }) -> Report {
        var fuzzer = Fuzzer(seed: seed)
        var report = Report()
        var loom = LoomInterpreter()
        let sink = DiscardedOutput()
        for n in 0..<count {
            if n % 50 == 0 {
                loom = LoomInterpreter()
                _ = loom.execute("set memory 64", output: sink)
            }
            let source: String
            switch kind {
            case .mutated: source = fuzzer.program()
            case .models: source = fuzzer.modelProgram()
            case .sparseCoding: source = fuzzer.codingProgram()
            case .deep: source = fuzzer.deepProgram()
            }
            before(source)
            let started = Monotonic.now
            let done = Atomic<Bool>(false)
            // Without a thread to time it (the system refused one), a case runs untimed.
            let watchdog = try? BackgroundThread {
                while !done.load(ordering: .relaxed) {
                    if Monotonic.now - started > budget { interruptFlag.store(true, ordering: .relaxed) }
                    var ts = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                    nanosleep(&ts, nil)
                }
            }
            if case .error(let error) = loom.execute(source, output: sink) {
                report.errors += 1
                var kind = ""
                for c in error.value.split(separator: "\n").first ?? "" where !(c.isNumber && kind.last == "#") {
                    kind.append(c.isNumber ? "#" : c)
                }
                report.errorKinds[kind, default: 0] += 1
            }
            done.store(true, ordering: .relaxed)
            watchdog?.join()
            if Monotonic.now - started > budget + 1 { report.hangs.append(source) }
            _ = loom.complete(source, cursor: source.unicodeScalars.count / 2)
            _ = loom.inspect(source, cursor: source.unicodeScalars.count / 2, detailLevel: 0)
            _ = loom.isComplete(source)
            report.cases += 1
        }
        return report
    }

    /// Frames through framing, verification and parsing, as the server does.
    public static func wire(count: Int, seed: UInt64) -> Report {
        var fuzzer = Fuzzer(seed: seed)
        let signer = Signer(key: "fuzz-key")
        var report = Report()
        for _ in 0..<count {
            let frames = fuzzer.frames(signer: signer)
            do {
                let wire = try WireMessage(frames: frames)
                if signer.verify(wire.signature, parts: wire.signedParts) { _ = try Message(wire: wire) }
            } catch {
                report.errors += 1
            }
            _ = try? JSON.parse(fuzzer.bytes(maxCount: 64))
            report.cases += 1
        }
        return report
    }
}
