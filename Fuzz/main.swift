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
let keepCase: (String) -> Void = { source in
    guard let casePath, let f = fopen(casePath, "w") else { return }
    fputs(source, f)
    fclose(f)
}
let programs = FuzzRunner.programs(count: cases, seed: seed, before: keepCase)
print("programs: \(programs.cases) cases, \(programs.errors) ended in an error, \(programs.hangs.count) hangs")
let models = FuzzRunner.programs(count: cases / 10, seed: seed, kind: .models, before: keepCase)
print("models: \(models.cases) cases, \(models.errors) ended in an error, \(models.hangs.count) hangs")
for (kind, n) in models.errorKinds.sorted(by: { $0.value > $1.value }).prefix(8) { print("  \(n)× \(kind)") }
let coding = FuzzRunner.programs(count: cases / 10, seed: seed, kind: .sparseCoding, before: keepCase)
print("sparse coding: \(coding.cases) cases, \(coding.errors) ended in an error, \(coding.hangs.count) hangs")
let deep = FuzzRunner.programs(count: cases / 100, seed: seed, kind: .deep, before: keepCase)
print("deep programs: \(deep.cases) cases, \(deep.errors) ended in an error, \(deep.hangs.count) hangs")
let differing = FuzzRunner.threadIndependence(count: cases / 100, seed: seed)
print("thread independence: \(cases / 100) models trained on 1 and 2 threads, \(differing.count) differ")
let hangs = programs.hangs + models.hangs + coding.hangs + deep.hangs
for hang in hangs.prefix(5) { print("hang:\n\(hang)\n") }
for difference in differing.prefix(5) { print("differs: \(difference)") }
exit(hangs.isEmpty && differing.isEmpty ? 0 : 1)
