import Foundation
import LoomCore
import XCTest

/// `Files.writeAtomically` writes the way users' tools do: through links,
/// keeping permissions, never replacing what is not a regular file.
final class FileWriteTests: XCTestCase {
    var folder: String!

    override func setUp() {
        folder = NSTemporaryDirectory() + "loom-files-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }
    func entries() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? [] }

    func testASymlinkIsWrittenThroughAndStaysALink() throws {
        let target = folder + "/real.ipynb", link = folder + "/link.ipynb"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        XCTAssertEqual(symlink("real.ipynb", link), 0)
        try Files.writeAtomically(Array("new".utf8), to: link)
        XCTAssertEqual(text(target), "new")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "real.ipynb")
        XCTAssertEqual(entries(), ["link.ipynb", "real.ipynb"], "no temporary file is left")
    }

    func testPermissionsAreKeptAndNewFilesFollowTheUmask() throws {
        let secret = folder + "/secret.ipynb"
        try "x".write(toFile: secret, atomically: false, encoding: .utf8)
        chmod(secret, 0o600)
        try Files.writeAtomically(Array("y".utf8), to: secret)
        XCTAssertEqual(mode(secret), 0o600, "a private notebook stays private")
        let fresh = folder + "/fresh.ipynb"
        let old = umask(0o027)
        defer { umask(old) }
        try Files.writeAtomically(Array("z".utf8), to: fresh)
        XCTAssertEqual(mode(fresh), 0o640)
    }

    func testOnlyRegularFilesAreReplaced() {
        let fifo = folder + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try Files.writeAtomically(Array("x".utf8), to: fifo)) { error in
            XCTAssertTrue((error as? FileError)?.reason.contains("not a regular file") ?? false)
        }
        var info = stat()
        XCTAssertEqual(lstat(fifo, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertThrowsError(try Files.writeAtomically(Array("x".utf8), to: "/dev/null"))
        XCTAssertThrowsError(try Files.writeAtomically(Array("x".utf8), to: folder))
    }

    func testAHardLinkedFileIsWrittenInPlace() throws {
        let a = folder + "/a.ipynb", b = folder + "/b.ipynb"
        try "one".write(toFile: a, atomically: false, encoding: .utf8)
        XCTAssertEqual(link(a, b), 0)
        try Files.writeAtomically(Array("two".utf8), to: a)
        XCTAssertEqual(text(b), "two", "the other link sees the new notebook")
    }

    func testLeftoversOfAKilledWriteAreCleanedUp() throws {
        let target = folder + "/nb.ipynb"
        let stale = folder + "/.nb.ipynb.loom-tmp-AbC123", recent = folder + "/.nb.ipynb.loom-tmp-XyZ789"
        try "half".write(toFile: stale, atomically: false, encoding: .utf8)
        try "busy".write(toFile: recent, atomically: false, encoding: .utf8)
        var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, stale, &times, 0), 0)
        try Files.writeAtomically(Array("whole".utf8), to: target)
        XCTAssertEqual(entries(), [".nb.ipynb.loom-tmp-XyZ789", "nb.ipynb"], "an hour-old leftover goes; a fresh one may be a write in progress")
    }
}
