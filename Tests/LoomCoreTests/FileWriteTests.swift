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

    /// A rename gives the target a new inode, as an editor's save does: the
    /// other link keeps the previous bytes, whole (a rewrite in place left
    /// both links truncated when it was killed).
    func testAHardLinkedFileIsReplacedAndItsOtherLinkKeepsTheOldBytes() throws {
        let a = folder + "/a.ipynb", b = folder + "/b.ipynb"
        try "one".write(toFile: a, atomically: false, encoding: .utf8)
        XCTAssertEqual(link(a, b), 0)
        var before = stat()
        XCTAssertEqual(stat(a, &before), 0)
        try Files.writeAtomically(Array("two".utf8), to: a)
        XCTAssertEqual(text(a), "two")
        XCTAssertEqual(text(b), "one", "the other link keeps the previous notebook")
        var after = stat()
        XCTAssertEqual(stat(a, &after), 0)
        XCTAssertNotEqual(after.st_ino, before.st_ino, "the new bytes are a new file renamed into place")
        XCTAssertEqual(entries(), ["a.ipynb", "b.ipynb"])
    }

    func testAReadOnlyFileIsRefusedAndKept() throws {
        let locked = folder + "/locked.safetensors"
        try "kept".write(toFile: locked, atomically: false, encoding: .utf8)
        chmod(locked, 0o444)
        XCTAssertThrowsError(try Files.writeAtomically(Array("new".utf8), to: locked)) { error in
            XCTAssertEqual((error as? FileError)?.path, locked)
            XCTAssertTrue((error as? FileError)?.reason.hasPrefix("read-only (mode 444)") ?? false, "\(error)")
        }
        XCTAssertEqual(text(locked), "kept")
        XCTAssertEqual(mode(locked), 0o444)
        XCTAssertEqual(entries(), ["locked.safetensors"], "no temporary file is left")
    }

    func testALoopOfSymlinksIsRefusedAndStaysALoop() throws {
        let a = folder + "/a.ipynb", b = folder + "/b.ipynb"
        XCTAssertEqual(symlink("b.ipynb", a), 0)
        XCTAssertEqual(symlink("a.ipynb", b), 0)
        XCTAssertThrowsError(try Files.writeAtomically(Array("x".utf8), to: a)) { error in
            XCTAssertTrue((error as? FileError)?.reason.contains("loop of symbolic links") ?? false, "\(error)")
        }
        var info = stat()
        XCTAssertEqual(lstat(a, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        // A loop in a folder of the path, too.
        XCTAssertEqual(symlink("d2", folder + "/d1"), 0)
        XCTAssertEqual(symlink("d1", folder + "/d2"), 0)
        XCTAssertThrowsError(try Files.writeAtomically(Array("x".utf8), to: folder + "/d1/nb.ipynb"))
        XCTAssertEqual(entries(), ["a.ipynb", "b.ipynb", "d1", "d2"])
    }

    /// A temporary names the process writing it: one whose process is gone is
    /// removed by the next write in its folder at once; one of a live process
    /// is a write in progress and is kept; an old one naming no process goes.
    func testTemporariesOfKilledWritesAreRemovedByTheNextWrite() throws {
        var child: pid_t = 0
        var arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        XCTAssertEqual(posix_spawn(&child, "/bin/true", nil, nil, &arguments, nil), 0)
        free(arguments[0])
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let dead = folder + "/.ck.safetensors.loom-tmp-\(child)-AbC123"
        let live = folder + "/.nb.ipynb.loom-tmp-\(getppid())-XyZ789"
        let oldStyle = folder + "/.nb.ipynb.loom-tmp-Qq1234", recentOldStyle = folder + "/.nb.ipynb.loom-tmp-Rr5678"
        for path in [dead, live, oldStyle, recentOldStyle] { try "half".write(toFile: path, atomically: false, encoding: .utf8) }
        var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, oldStyle, &times, 0), 0)
        try Files.writeAtomically(Array("whole".utf8), to: folder + "/nb.ipynb")
        XCTAssertEqual(entries(), [".nb.ipynb.loom-tmp-\(getppid())-XyZ789", ".nb.ipynb.loom-tmp-Rr5678", "nb.ipynb"])
    }

    /// The temporary's name is cut short so that it fits the 255 bytes a name may have.
    func testAFileWithALongNameIsWritten() throws {
        let long = folder + "/" + String(repeating: "é", count: 120) + ".ipynb"  // 246 bytes
        try Files.writeAtomically(Array("x".utf8), to: long)
        XCTAssertEqual(text(long), "x")
    }

    /// The bytes are synced before the rename, and the folder after it, so a
    /// power cut cannot leave an empty file or undo the rename.
    func testTheFileIsSyncedBeforeTheRenameAndTheFolderAfterIt() throws {
        var steps: [Files.WriteStep] = []
        try Files.writeAtomically(Array("new".utf8), to: folder + "/nb.ipynb") { steps.append($0) }
        XCTAssertEqual(steps, [.written, .synced, .renamed, .folderSynced])
        XCTAssertEqual(text(folder + "/nb.ipynb"), "new")
    }

    /// A failure between any two steps leaves the old file (before the
    /// rename) or the new one (after it), whole, and no temporary file.
    func testAFailureAtAnyStepLeavesAWholeFileAndNoTemporary() throws {
        let path = folder + "/nb.ipynb"
        for failing in Files.WriteStep.allCases {
            try "old".write(toFile: path, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try Files.writeAtomically(Array("new".utf8), to: path) { step throws(FileError) in
                if step == failing { throw FileError(path: path, reason: "injected") }
            }) { error in XCTAssertEqual((error as? FileError)?.reason, "injected") }
            let renamed = failing == .renamed || failing == .folderSynced
            XCTAssertEqual(text(path), renamed ? "new" : "old", "failing after \(failing)")
            XCTAssertEqual(entries(), ["nb.ipynb"], "failing after \(failing)")
        }
    }

    /// A download is put in place the same way: its folder synced after the rename.
    func testATemporaryPutInPlaceSyncsItsFolder() throws {
        let target = folder + "/data.bin"
        let temporary = try Files.makeTemporary(beside: target)
        XCTAssertEqual(write(temporary.fd, "abc", 3), 3)
        var steps: [Files.WriteStep] = []
        try Files.putInPlace(temporary, as: target) { steps.append($0) }
        XCTAssertEqual(steps, [.written, .synced, .renamed, .folderSynced])
        XCTAssertEqual(text(target), "abc")
        XCTAssertEqual(entries(), ["data.bin"])
    }
}
