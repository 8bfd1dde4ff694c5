#if canImport(Glibc)
import Glibc
import CMalloc
#endif

/// Facts about the machine the engine runs on.
public enum Machine {
    /// Online processor cores.
    public static var cores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Physical memory in bytes.
    public static var physicalMemory: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Keeps freed memory in the process rather than handing it back to the
    /// system at once. Training frees and allocates the same batch-sized
    /// buffers every step; without this each comes back as fresh pages that
    /// the kernel zeroes on first touch, which cost more than the arithmetic
    /// done on them. Memory stays at the run's peak instead of dropping
    /// between steps. Idempotent.
    public static func keepFreedMemory() { _ = keptFreedMemory }

    private static let keptFreedMemory: Void = {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)  // glibc's largest: bigger blocks are still mapped
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        #endif
    }()

    /// Asks the kernel to back the whole 2 MiB pages inside `buffer` with huge
    /// pages (where transparent huge pages are on `madvise`, as on Debian):
    /// first touching a large fresh buffer then faults once per 2 MiB instead
    /// of once per 4 KiB. Call before writing it; a hint only.
    public static func preferHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        let huge = 2 << 20
        guard let base = buffer.baseAddress, buffer.count >= 2 * huge else { return }
        let start = (Int(bitPattern: base) + huge - 1) / huge * huge
        let end = (Int(bitPattern: base) + buffer.count) / huge * huge
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }
}
