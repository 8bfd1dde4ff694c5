import Jupyter
import LoomCore
import LoomEngine
import LoomLang

/// The readers of untrusted bytes, one input at a time, for coverage-guided
/// fuzzing (libFuzzer: `make fuzz-coverage`) and for replaying a corpus.
/// Every input must end in a value or an error; a crash or a trap is a bug.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Loom source: the lexer and parser, and the completeness check
    /// `jupyter console` asks on every Enter.
    case loom
    /// The JSON parser that reads kernel messages, notebooks and safetensors headers.
    case json
    /// Wire framing and message parsing (frames separated by `<IDS|MSG>`-style markers, see `frames`).
    case wire
    case safetensors, npy, idx, csv
    /// `loom run -p NAME VALUE` (see `ParameterFuzzer`): a parameter that is
    /// not refused must become exactly one assignment of exactly its value.
    case parameter

    /// Runs one input; true when the format's reader accepted it (an error
    /// is an answer too: only a crash is a failure).
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .loom:
            let source = String(decoding: bytes, as: UTF8.self)
            _ = LoomInterpreter(frontEnd: .terminal).isComplete(source)
            return (try? Parser.parse(source)) != nil
        case .json:
            guard let value = try? JSON.parse(bytes) else { return false }
            return (try? JSON.parse(value.serialized())) == value
        case .wire:
            guard let wire = try? WireMessage(frames: FuzzTarget.frames(bytes)) else { return false }
            return (try? Message(wire: wire)) != nil
        case .safetensors:
            return (try? SafeTensors.decode(bytes, source: "fuzz")) != nil
        case .npy:
            return (try? NPYLoader.array(bytes, source: "fuzz")) != nil
        case .idx:
            // The first byte chooses how much of the rest is the labels file.
            guard let first = bytes.first else { return false }
            let rest = Array(bytes.dropFirst())
            let split = rest.count * Int(first) / 255
            _ = try? IDXLoader.array(rest, source: "fuzz")
            return (try? IDXLoader.load(images: Array(rest[..<split]), labels: Array(rest[split...]), imagesSource: "a",
                                        labelsSource: "b")) != nil
        case .csv:
            _ = try? CSVLoader.load(bytes: bytes, label: .first, shape: [2, 2], source: "fuzz")
            return (try? CSVLoader.load(bytes: bytes, source: "fuzz")) != nil
        case .parameter:
            // A wrong assignment is a finding: it stops the run as a crash does.
            let outcome = ParameterFuzzer.check(bytes)
            if case .violation(let what) = outcome { preconditionFailure("a parameter injects: \(what)") }
            return outcome == .exact
        }
    }

    /// Bytes as frames: split at each 0xFF 0x00 pair (the fuzzer learns it).
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = [[]]
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0xFF, i + 1 < bytes.count, bytes[i + 1] == 0x00 {
                frames.append([])
                i += 2
            } else {
                frames[frames.count - 1].append(bytes[i])
                i += 1
            }
        }
        return frames
    }

    /// A version 1.0 .npy file.
    static func npy(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
        header.append(UInt8(ascii: "\n"))
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + data
    }

    /// Seed inputs: valid and nearly valid examples of each format, written
    /// by `loom-libfuzzer seed DIR` as the corpus a run starts from.
    public var seeds: [[UInt8]] {
        switch self {
        case .loom: return Fuzzer.corpus.map { Array($0.utf8) }
        case .json:
            return [#"{"a": [1, 2.5, -3e4, true, null, "x\u00e9\n"], "b": {}}"#, "[[[[]]]]", "12345678901234567890123",
                    #"{"header": {"msg_id": "1", "msg_type": "execute_request"}, "content": {"code": "1"}}"#].map { Array($0.utf8) }
        case .wire:
            let signer = Signer(key: "")
            let message = OutgoingMessage(identities: [Array("client".utf8)],
                                          header: ["msg_id": "1", "msg_type": "kernel_info_request", "session": "s",
                                                   "username": "u", "date": "2026-01-01T00:00:00Z", "version": "5.3"],
                                          parentHeader: Array("{}".utf8), metadata: [:], content: [:])
            return [message.wire(signedBy: signer).frames.joined(separator: [0xFF, 0x00]).map { $0 }]
        case .safetensors:
            let tensor = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
            return [SafeTensors.encode([("w", tensor), ("b", Tensor(shape: [3], storage: [0, 1, 2]))], metadata: [("k", "v")])]
        case .npy:
            return [FuzzTarget.npy(descr: "<f4", shape: "(2, 3)", data: (1...6).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } }),
                    FuzzTarget.npy(descr: "|u1", shape: "(3,)", data: [0, 1, 2])]
        case .idx:
            let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [1, 2, 3, 4, 5, 6, 7, 8]
            let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2, 1, 0]
            return [[UInt8(255 * images.count / (images.count + labels.count))] + images + labels]
        case .parameter:
            return ["5", "-1e-3", "10%", "[5%, 10%, 20%]", "say \"hi\"\\now\nand\tthen", "ks\u{0}[1, 'a', [2.5, \"b\"]]",
                    "\u{0600}\"", "名前\u{0}値", "[1] print 2"].map { Array($0.utf8) }
        case .csv:
            return ["a,b,c,label\n1,2,3,0\n4,5,6,1\n", "1,2,3,4,setosa\n5,6,7,8,virginica\n", "0.5,1e3,-2,1\r\n"].map { Array($0.utf8) }
        }
    }
}
