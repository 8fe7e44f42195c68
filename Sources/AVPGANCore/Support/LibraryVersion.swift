/// The library version; must equal the AVPGAN_VERSION_* macros of include/avpgan.h
/// (a C test checks it).
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
    public static var number: UInt32 { UInt32(major * 10000 + minor * 100 + patch) }
}
