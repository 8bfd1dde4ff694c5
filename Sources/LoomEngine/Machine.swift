#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine the engine runs on.
public enum Machine {
    /// Online processor cores.
    public static var cores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
