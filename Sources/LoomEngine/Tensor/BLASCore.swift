import LoomCore

extension BLAS {
    /// The OpenBLAS kernel this CPU should use, from its features in
    /// /proc/cpuinfo: `SkylakeX` with AVX-512, `Haswell` with AVX2 and FMA,
    /// nil when OpenBLAS's own choice is as good. OpenBLAS 0.3.21 does not
    /// know recent CPUs and falls back to its slow generic kernel.
    public static var preferredCoreType: String? {
        guard let text = try? Files.readText("/proc/cpuinfo"),
              let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Whether OpenBLAS runs its generic kernel although a faster one fits.
    public static var isOnSlowKernel: Bool {
        coreName == "Prescott" && preferredCoreType != nil
    }
}
