import AVPGANCore

/// The shared body of the `avpgan_*_load_file` and `avpgan_*_load_buffer` thunks: clear
/// `*out` first (so a failure leaves NULL), check the arguments, build the object, and hand the
/// caller a retained opaque handle that the matching `_free` releases.
enum HandleLoading {
    static func file(_ path: UnsafePointer<CChar>?, into out: UnsafeMutablePointer<OpaquePointer?>?,
                     outName: String = "out_model", _ make: (String) throws -> AnyObject) -> Int32 {
        out?.pointee = nil
        return CallBoundary.run {
            let out = try Argument.require(out, outName)
            let path = String(cString: try Argument.require(path, "path"))
            publish(try make(path), out)
        }
    }

    /// `limit`: the largest buffer accepted for this kind of model, named `what` in the error.
    /// `outName`: the out-parameter's name in the header, for the NULL message.
    static func buffer(_ data: UnsafeRawPointer?, size: Int, limit: Int, what: String,
                       into out: UnsafeMutablePointer<OpaquePointer?>?, outName: String = "out_model", _ make: ([UInt8]) throws -> AnyObject) -> Int32 {
        out?.pointee = nil
        return CallBoundary.run {
            let out = try Argument.require(out, outName)
            let data = try Argument.require(data, "data")
            try Argument.size(size, "size")
            guard size <= limit else {
                throw AVPGANError(.invalidArgument, "size is \(size) bytes, more than the \(limit)-byte limit of \(what)")
            }
            publish(try make(Array(UnsafeRawBufferPointer(start: data, count: size))), out)
        }
    }

    private static func publish(_ object: AnyObject, _ out: UnsafeMutablePointer<OpaquePointer?>) {
        out.pointee = OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    }
}
