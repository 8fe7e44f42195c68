import AVPGANCore

/// The shared body of the `avpgan_*_load_file` and `avpgan_*_load_buffer` thunks: clear
/// `*out` first (so a failure leaves NULL), check the arguments, build the object, and hand the
/// caller a retained opaque handle that the matching `_free` releases.
enum HandleLoading {
    static func file(_ path: UnsafePointer<CChar>?, into out: UnsafeMutablePointer<OpaquePointer?>?,
                     outName: String = "out_model", _ make: (String) throws -> AnyObject) -> Int32 {
        create(into: out, outName: outName) { out in
            let path = String(cString: try Argument.require(path, "path"))
            publish(try make(path), out)
        }
    }

    /// `limit`: the largest buffer accepted for this kind of model, named `what` in the error.
    /// `outName`: the out-parameter's name in the header, for the NULL message.
    static func buffer(_ data: UnsafeRawPointer?, size: Int, limit: Int, what: String,
                       into out: UnsafeMutablePointer<OpaquePointer?>?, outName: String = "out_model", _ make: ([UInt8]) throws -> AnyObject) -> Int32 {
        create(into: out, outName: outName) { out in
            let data = try Argument.require(data, "data")
            try Argument.size(size, "size")
            guard size <= limit else {
                throw AVPGANError(.invalidArgument, "size is \(size) bytes, more than the \(limit)-byte limit of \(what)")
            }
            publish(try make(Array(UnsafeRawBufferPointer(start: data, count: size))), out)
        }
    }

    /// The body of a thunk that makes a handle into `*out`: `*out` is cleared first (so a
    /// failed call leaves NULL there), `out` must not be NULL (named `outName` in the error),
    /// and `make` runs inside `CallBoundary.run`, storing the handle through the pointer it is given.
    static func create(into out: UnsafeMutablePointer<OpaquePointer?>?, outName: String,
                       _ make: (UnsafeMutablePointer<OpaquePointer?>) throws -> Void) -> Int32 {
        out?.pointee = nil
        return CallBoundary.run { try make(try Argument.require(out, outName)) }
    }

    private static func publish(_ object: AnyObject, _ out: UnsafeMutablePointer<OpaquePointer?>) {
        out.pointee = OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    }
}
