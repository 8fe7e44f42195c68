import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

// Library-wide entry points: version, status strings, last error, threads.

private let versionString = strdup(LibraryVersion.string)!
private let statusStrings: [Int32: UnsafeMutablePointer<CChar>] = {
    var table = [Int32: UnsafeMutablePointer<CChar>]()
    table[0] = strdup("ok")!
    for kind in ErrorKind.allCases { table[kind.status] = strdup(kind.summary)! }
    return table
}()
private let unknownStatus = strdup("unknown status")!

@_cdecl("avpgan_version")
public func avpgan_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@_cdecl("avpgan_version_number")
public func avpgan_version_number() -> UInt32 { LibraryVersion.number }

@_cdecl("avpgan_status_string")
public func avpgan_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusStrings[status] ?? unknownStatus)
}

@_cdecl("avpgan_last_error")
public func avpgan_last_error() -> UnsafePointer<CChar> { LastError.current }

@_cdecl("avpgan_set_num_threads")
public func avpgan_set_num_threads(_ n: Int32) -> Int32 {
    CallBoundary.run { try Threads.set(Int(n)) }
}

@_cdecl("avpgan_get_num_threads")
public func avpgan_get_num_threads() -> Int32 { Int32(Threads.count) }
