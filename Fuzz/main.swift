// `make fuzz`: the long fuzz run. Usage: loom-fuzz [CASES] [SEED]
import LoomFuzz
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
let cases = args.count > 1 ? Int(args[1]) ?? 100_000 : 100_000
let seed = args.count > 2 ? UInt64(args[2]) ?? 1 : 1
let wire = FuzzRunner.wire(count: cases, seed: seed)
print("wire: \(wire.cases) cases, \(wire.errors) rejected with an error, no crash")
// With LOOM_FUZZ_CASE=FILE, each case is written there before it runs, so a
// crash leaves the program that caused it.
let casePath = getenv("LOOM_FUZZ_CASE").map { String(cString: $0) }
let programs = FuzzRunner.programs(count: cases, seed: seed) { source in
    guard let casePath, let f = fopen(casePath, "w") else { return }
    fputs(source, f)
    fclose(f)
}
print("programs: \(programs.cases) cases, \(programs.errors) ended in an error, \(programs.hangs.count) hangs")
for hang in programs.hangs.prefix(5) { print("hang:\n\(hang)\n") }
exit(programs.hangs.isEmpty ? 0 : 1)
