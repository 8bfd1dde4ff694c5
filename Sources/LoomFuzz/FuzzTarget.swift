#if canImport(Glibc)
import Glibc
#endif
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
    /// gzip through zlib, at most 16 MiB out.
    case gzip
    /// A tar archive (gzip or plain): every entry read, then CIFAR-10's loader over it.
    case tar
    /// A NumPy .npz archive (zip): every entry read and CRC-checked, then loaded as a data set.
    case npz
    /// `loom run -p NAME VALUE` (see `ParameterFuzzer`): a parameter that is
    /// not refused must become exactly one assignment of exactly its value.
    case parameter
    /// A dictionary file: atoms in an .npy file (input starting with its
    /// magic), else a saved dictionary; read, shown, saved and loaded back,
    /// used to code and to learn from, under a 64 MiB memory limit.
    case dictionary
    /// A PNG or PGM file: its header, its pixels grey and in colour (at most
    /// 64 MiB of them), their patches and a resized copy.
    case picture
    /// A program `DeepPrograms` writes from the bytes (long chains, deep and
    /// self-sharing lists and the statements that walk them), run in a session.
    case deep

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
            // The compact layout made whole only within 64 MiB, as `load` asks the memory account first.
            guard let file = try? SafeTensors.read(bytes, source: "fuzz"),
                  let whole = try? CompactWeights.unpackedBytes(metadata: file.metadata, source: "fuzz"), whole <= 64 << 20
            else { return false }
            return (try? CompactWeights.unpack(file.tensors, metadata: file.metadata, source: "fuzz")) != nil
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
        case .gzip: return ArchiveInputs.gzip(bytes)
        case .tar: return ArchiveInputs.tar(bytes)
        case .npz: return ArchiveInputs.npz(bytes)
        case .parameter:
            // A wrong assignment is a finding: it stops the run as a crash does.
            let outcome = ParameterFuzzer.check(bytes)
            if case .violation(let what) = outcome { preconditionFailure("a parameter injects: \(what)") }
            return outcome == .exact
        case .dictionary:
            return FuzzTarget.dictionaryFile(bytes)
        case .picture:
            return FuzzTarget.picture(bytes)
        case .deep:
            // The least memory there is keeps every list, and so every walk over one, short.
            let loom = LoomInterpreter(frontEnd: .terminal), sink = DiscardedOutput()
            _ = loom.execute("set memory 16", output: sink)
            if case .ok = loom.execute(DeepPrograms.program(from: bytes), output: sink) { return true }
            return false
        }
    }

    /// Runs the statements that read and use a dictionary file on `bytes`,
    /// written to a scratch file; true when the file was read as a dictionary.
    static func dictionaryFile(_ bytes: [UInt8]) -> Bool {
        let npy = bytes.starts(with: [0x93] + Array("NUMPY".utf8))
        let path = "/tmp/loom-fuzz-\(getpid())." + (npy ? "npy" : "safetensors")
        defer { unlink(path); unlink(path + ".saved") }
        guard (try? Files.writeAtomically(bytes, to: path)) != nil else { return false }
        let loom = LoomInterpreter(frontEnd: .terminal)
        let output = DiscardedOutput()
        for setting in ["set memory 64", "set threads 1", "set progress off"] { _ = loom.execute(setting, output: output) }
        let read = npy ? "dictionary d = npy \"\(path)\"" : "load d \"\(path)\""
        guard case .ok = loom.execute(read, output: output) else { return false }
        var uses = ["d", "show atoms d first 6", "save d \"\(path).saved\"", "load e \"\(path).saved\"", "show atoms e"]
        if npy {
            uses += ["data x = npy \"\(path)\"", "codes c = encode x with d omp sparsity 2", "show codes c sample 1",
                     "codes t = encode x with d threshold 0.1", "dictionary f = learn x atoms 2 sparsity 1 iterations 2",
                     "dictionary g = learn x atoms 2 alpha 0.1 method online iterations 1 center"]
        }
        for code in uses { _ = loom.execute(code, output: output) }
        return true
    }

    /// Decodes `bytes` as a picture both ways and uses what comes out.
    static func picture(_ bytes: [UInt8]) -> Bool {
        guard (try? PictureFile.header(bytes, source: "fuzz")) != nil else { return false }
        var decoded = false
        for channels in [1, 3] {
            guard let picture = try? PictureFile.decode(bytes, channels: channels, atMost: 64 << 20, source: "fuzz") else { continue }
            decoded = true
            if picture.width >= 2, picture.height >= 2, picture.width * picture.height <= 1 << 16 {
                _ = PhotoPatches.extract(from: [picture], size: 2, stride: 1 + picture.width % 3)
            }
            _ = picture.resized(width: 3, height: 2)
        }
        return decoded
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

    /// A 6→5 dense layer's weights in the compact layout: pruned to a third,
    /// clustered to 3 values, or both.
    static func compactWeights(pruned: Bool, clustered: Bool) -> [UInt8] {
        guard let model = try? Sequential(name: "m", inputShape: [6], random: RandomGenerator(seed: 1)),
              (try? model.add(.dense(units: 5, activation: .linear))) != nil else { return [] }
        let kernels = SparseWeights.prunable(model.layers)
        if pruned { SparseWeights.prune(kernels, fraction: 2.0 / 3, global: false) }
        if clustered { try? WeightClusters.cluster(kernels, count: 3) }
        let (stored, layout) = CompactWeights.pack(model.weightTensors)
        return SafeTensors.encode(stored: stored, metadata: [(CompactWeights.layoutKey, layout ?? "{}")])
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
            return [SafeTensors.encode([("w", tensor), ("b", Tensor(shape: [3], storage: [0, 1, 2]))], metadata: [("k", "v")]),
                    FuzzTarget.compactWeights(pruned: true, clustered: false), FuzzTarget.compactWeights(pruned: false, clustered: true),
                    FuzzTarget.compactWeights(pruned: true, clustered: true)]
        case .npy:
            return [FuzzTarget.npy(descr: "<f4", shape: "(2, 3)", data: (1...6).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } }),
                    FuzzTarget.npy(descr: "|u1", shape: "(3,)", data: [0, 1, 2])]
        case .idx:
            let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [1, 2, 3, 4, 5, 6, 7, 8]
            let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2, 1, 0]
            return [[UInt8(255 * images.count / (images.count + labels.count))] + images + labels]
        case .gzip:
            // `printf 'hello loom\n' | gzip -n`
            return [[0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8,
                     0xC9, 0xCF, 0xCF, 0xE5, 0x02, 0x00, 0x2B, 0xFA, 0x95, 0xBD, 0x0B, 0x00, 0x00, 0x00]]
        case .tar:
            return [ArchiveInputs.tarFile([("a.txt", Array("hello\n".utf8)), ("folder/b.bin", [0, 1, 2])]), ArchiveInputs.cifar]
        case .npz:
            let images = FuzzTarget.npy(descr: "|u1", shape: "(2, 2, 2)", data: [0, 64, 128, 255, 1, 2, 3, 4])
            let labels = FuzzTarget.npy(descr: "|u1", shape: "(2,)", data: [0, 1])
            return [ArchiveInputs.zipFile([("x_train.npy", images), ("y_train.npy", labels), ("x_test.npy", images),
                                           ("y_test.npy", labels)]),
                    ArchiveInputs.zipFile([("arr_0.npy", FuzzTarget.npy(descr: "<f4", shape: "(1, 2)", data: [0, 0, 128, 63, 0, 0, 0, 64]))])]
        case .parameter:
            return ["5", "-1e-3", "10%", "[5%, 10%, 20%]", "say \"hi\"\\now\nand\tthen", "ks\u{0}[1, 'a', [2.5, \"b\"]]",
                    "\u{0600}\"", "名前\u{0}値", "[1] print 2"].map { Array($0.utf8) }
        case .dictionary:
            let atoms = (1...12).flatMap { withUnsafeBytes(of: Float($0 % 5) - 1.5) { Array($0) } }
            let saved = SafeTensors.encode([("atoms", Tensor(shape: [3, 4], storage: (0..<12).map { Float($0 % 7) - 2 }))],
                                           metadata: [("loom.format", "loom-dictionary-1"), ("loom.shape", "2x2"),
                                                      ("loom.centered", "false"), ("loom.origin", "fuzz"), ("loom.costs", "0.5,0.25")])
            return [FuzzTarget.npy(descr: "<f4", shape: "(3, 4)", data: atoms), saved]
        case .deep:
            // A 201-term sum; a list doubled 11 times, printed; one nested 101 deep, listed and deleted;
            // loops on one line; a string of 101 joins in a list, printed; brackets 120 deep.
            return [[0, 0, 0, 50, 0, 0, 1, 0], [1, 2, 10, 6, 0], [2, 1, 0, 50, 6, 1, 6, 2], [0, 4, 3],
                    [1, 5, 0, 100, 6, 0], [0, 3, 120, 0]]
        case .picture:
            let rgb: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
                                0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xF1, 0x4D, 0x00,
                                0x00, 0x00, 0x1D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x90, 0xB5, 0x0A, 0x2F, 0x99, 0xB8,
                                0xEE, 0xF4, 0x0B, 0x06, 0x56, 0x25, 0xFB, 0x98, 0xCA, 0x69, 0x9B, 0x2F, 0xBC, 0x05, 0x00, 0x44, 0xED,
                                0x08, 0x56, 0xBD, 0x9E, 0xD2, 0xDD, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
                                0x82]
            let palette: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
                                    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x02, 0x03, 0x00, 0x00, 0x00, 0x18, 0xFA, 0x75,
                                    0x7E, 0x00, 0x00, 0x00, 0x0C, 0x50, 0x4C, 0x54, 0x45, 0x00, 0x00, 0x00, 0x55, 0x55, 0x55, 0xAA,
                                    0xAA, 0xAA, 0xFF, 0xFF, 0xFF, 0xC1, 0x7F, 0x62, 0xD1, 0x00, 0x00, 0x00, 0x0E, 0x49, 0x44, 0x41,
                                    0x54, 0x78, 0x9C, 0x63, 0x90, 0x96, 0x66, 0x90, 0x96, 0x06, 0x00, 0x01, 0x4A, 0x00, 0x6D, 0x3E,
                                    0xAD, 0xBD, 0xD4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
            return [rgb, palette, Array("P5 3 2 255\n".utf8) + [0, 9, 99, 199, 254, 255],
                    Array("P5 2 2 1000\n".utf8) + [0, 1, 3, 232, 0, 7, 1, 0], Array("P2\n# c\n3 2\n9\n0 1 2\n3 4 9\n".utf8)]
        case .csv:
            return ["a,b,c,label\n1,2,3,0\n4,5,6,1\n", "1,2,3,4,setosa\n5,6,7,8,virginica\n", "0.5,1e3,-2,1\r\n"].map { Array($0.utf8) }
        }
    }
}
