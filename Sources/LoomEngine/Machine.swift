#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine the engine runs on.
public enum Machine {
    /// Online processor cores.
    public static var cores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Physical memory in bytes.
    public static var physicalMemory: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
