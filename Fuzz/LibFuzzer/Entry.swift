// Coverage-guided fuzzing of Loom's readers of untrusted bytes.
//
// Built with libFuzzer (`make fuzz-coverage`, `-sanitize=fuzzer,address
// -DLIBFUZZER`), the process is a libFuzzer binary for the target named by
// LOOM_FUZZ_TARGET (loom, json, wire, safetensors, npy, idx, csv, gzip, tar,
// npz, parameter, dictionary, deep).
// Built plainly, it replays inputs and writes seeds:
//   loom-libfuzzer seed DIR          one corpus folder per target, from the seeds
//   loom-libfuzzer run TARGET FILE…  each file through the target
import LoomFuzz
#if canImport(Glibc)
import Glibc
#endif

func complain(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

let target: FuzzTarget = {
    let name = getenv("LOOM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        complain("LOOM_FUZZ_TARGET must name one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
        exit(2)
    }
    return target
}()

#if LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable's `main` to `<module>_main`; here that hands
/// the process to libFuzzer's driver.
@_cdecl("loom_libfuzzer_main")
public func libFuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return runDriver(&count, &vector, fuzzOne)
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "seed" where args.count == 2:
            for target in FuzzTarget.allCases {
                let folder = args[1] + "/" + target.rawValue
                mkdir(args[1], 0o755)
                mkdir(folder, 0o755)
                for (i, seed) in target.seeds.enumerated() {
                    guard let f = fopen(folder + "/seed-\(i)", "wb") else { continue }
                    _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, seed.count, f) }
                    fclose(f)
                }
            }
        case "run" where args.count >= 3:
            guard let target = FuzzTarget(rawValue: args[1]) else { complain("unknown target \(args[1])\n"); exit(2) }
            for path in args.dropFirst(2) {
                guard let f = fopen(path, "rb") else { complain("cannot read \(path)\n"); exit(2) }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
                    bytes += buffer[0..<n]
                    if n < 65536 { break }
                }
                fclose(f)
                target.run(bytes)
            }
            print("\(args.count - 2) input(s) through \(target.rawValue): no crash")
        default:
            complain("usage: loom-libfuzzer seed DIR | run TARGET FILE…\n")
            exit(2)
        }
    }
}
#endif
