import CCurl
import LoomCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libcurl, loaded on the first download (see `CCurl`), or why it could not be.
final class Curl: @unchecked Sendable {
    let api: loom_curl

    private init(_ api: loom_curl) { self.api = api }

    /// Loaded once; its functions are safe to call from any thread.
    static let loaded: Result<Curl, Transfer.Failure> = {
        var api = loom_curl()
        var reason: UnsafePointer<CChar>?
        guard loom_curl_load(&api, &reason) == 0 else {
            let why = reason.map { String(cString: $0) } ?? "not found"
            return .failure(Transfer.Failure("downloads need libcurl (Debian's libcurl4), which could not be loaded: \(why)"))
        }
        return .success(Curl(api))
    }()
}

/// One HTTP or HTTPS GET streamed into an open file, hashed (SHA-256) as
/// its bytes arrive; stopped as soon as it sends more than `limit` bytes
/// or `shouldStop` says so.
final class Transfer {
    struct Failure: Error, Equatable { let reason: String; init(_ reason: String) { self.reason = reason } }

    enum Outcome: Equatable {
        case complete(bytes: Int, sha256: String)
        case failed(String)
        case interrupted
    }

    private let fd: Int32
    private let limit: Int
    private let report: (Int) -> Void
    private let shouldStop: () -> Bool
    private var hash = SHA256()
    private var received = 0
    private var writeFailure: String?
    private var stopped = false

    private init(fd: Int32, limit: Int, report: @escaping (Int) -> Void, shouldStop: @escaping () -> Bool) {
        self.fd = fd
        self.limit = limit
        self.report = report
        self.shouldStop = shouldStop
    }

    /// Fetches `url` into `fd`: only http and https (redirects too, at most 5),
    /// a connection within 30 s, and no stall longer than 60 s.
    /// `report` gets the bytes received so far, from this thread.
    static func get(_ url: String, into fd: Int32, limit: Int, curl: Curl,
                    report: (Int) -> Void, shouldStop: () -> Bool) -> Outcome {
        withSIGPIPEBlocked {
            withoutActuallyEscaping(report) { report in
                withoutActuallyEscaping(shouldStop) { shouldStop in
                    Transfer(fd: fd, limit: limit, report: report, shouldStop: shouldStop).run(url, curl.api)
                }
            }
        }
    }

    /// Runs `body` with SIGPIPE blocked on this thread, then takes any it
    /// raised: a TLS write to a peer that hung up raises one, which would end
    /// `loom eval` or `loom run` (only the kernel ignores it), and libcurl
    /// leaves signals alone here (`NOSIGNAL`, as threaded programs need).
    static func withSIGPIPEBlocked<T>(_ body: () -> T) -> T {
        var pipe = sigset_t(), previous = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, &previous)
        defer {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipe, nil, &now) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return body()
    }

    private func run(_ url: String, _ c: loom_curl) -> Outcome {
        var api = c
        guard let handle = api.easy_init() else { return .failed("libcurl could not start a transfer") }
        defer { api.easy_cleanup(handle) }
        var errorText = [CChar](repeating: 0, count: LOOM_CURL_ERROR_SIZE)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let code: Int32 = errorText.withUnsafeMutableBufferPointer { buffer in
            url.withCString { urlText in
                "loom".withCString { agent in
                    loom_curl_set_pointer(&api, handle, Int32(LOOM_CURLOPT_URL), urlText)
                    loom_curl_set_pointer(&api, handle, Int32(LOOM_CURLOPT_USERAGENT), agent)
                    loom_curl_set_pointer(&api, handle, Int32(LOOM_CURLOPT_ERRORBUFFER), buffer.baseAddress)
                    for (option, value) in Transfer.options { loom_curl_set_long(&api, handle, option, value) }
                    loom_curl_set_write(&api, handle, Transfer.write)
                    loom_curl_set_pointer(&api, handle, Int32(LOOM_CURLOPT_WRITEDATA), context)
                    loom_curl_set_progress(&api, handle, Transfer.progress)
                    loom_curl_set_pointer(&api, handle, Int32(LOOM_CURLOPT_XFERINFODATA), context)
                    return api.easy_perform(handle)
                }
            }
        }
        if stopped { return .interrupted }
        switch code {
        case Int32(LOOM_CURLE_OK):
            return .complete(bytes: received, sha256: hash.hex())
        case Int32(LOOM_CURLE_HTTP_RETURNED_ERROR):
            return .failed("HTTP status \(loom_curl_response_code(&api, handle))")
        case Int32(LOOM_CURLE_WRITE_ERROR) where writeFailure != nil:
            return .failed(writeFailure ?? "")
        default:
            let detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let standard = api.easy_strerror(code).map { String(cString: $0) } ?? "libcurl error \(code)"
            return .failed(detail.isEmpty ? standard : detail)
        }
    }

    /// Long-valued options: the schemes allowed, redirects, errors on HTTP
    /// status ≥ 400, timeouts, no signals (the kernel's threads), progress calls.
    private static let options: [(Int32, Int)] = [
        (Int32(LOOM_CURLOPT_PROTOCOLS), LOOM_CURLPROTO_HTTP_HTTPS),
        (Int32(LOOM_CURLOPT_REDIR_PROTOCOLS), LOOM_CURLPROTO_HTTP_HTTPS),
        (Int32(LOOM_CURLOPT_FOLLOWLOCATION), 1),
        (Int32(LOOM_CURLOPT_MAXREDIRS), 5),
        (Int32(LOOM_CURLOPT_FAILONERROR), 1),
        (Int32(LOOM_CURLOPT_CONNECTTIMEOUT), 30),
        (Int32(LOOM_CURLOPT_LOW_SPEED_LIMIT), 1),
        (Int32(LOOM_CURLOPT_LOW_SPEED_TIME), 60),
        (Int32(LOOM_CURLOPT_NOSIGNAL), 1),
        (Int32(LOOM_CURLOPT_NOPROGRESS), 0),
    ]

    /// Appends a chunk to the file and the hash; 0 (which stops libcurl) past the limit or on a failed write.
    private static let write: loom_curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let n = size * count
        guard let data, n > 0 else { return n }
        guard transfer.received + n <= transfer.limit else {
            transfer.writeFailure = "sent more than the \(transfer.limit) bytes published"
            return 0
        }
        var written = 0
        while written < n {
            let w = writeChunk(transfer.fd, data + written, n - written)
            if w < 0 && errno == EINTR { continue }
            guard w > 0 else {
                transfer.writeFailure = "cannot write the file: " + String(cString: strerror(errno))
                return 0
            }
            written += w
        }
        transfer.hash.update(UnsafeRawBufferPointer(start: data, count: n))
        transfer.received += n
        return n
    }

    /// Called by libcurl about once a second and after each chunk: reports, or stops on an interrupt.
    private static let progress: loom_curl_progress_callback = { context, _, _, _, _ in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        if transfer.shouldStop() {
            transfer.stopped = true
            return 1
        }
        transfer.report(transfer.received)
        return 0
    }
}

/// The C library's `write`, named apart from `Transfer.write`.
private func writeChunk(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
