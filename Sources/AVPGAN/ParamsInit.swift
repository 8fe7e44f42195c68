import AVPGANCore

/// The body of an `avpgan_*_params_init` thunk: fills the caller's struct of `size` bytes with
/// the function's defaults (struct_size included), refusing NULL and sizes below `minimumSize`.
enum ParamsInit {
    static func fill<T>(_ params: UnsafeMutablePointer<T>?, size: Int, defaults: T, minimumSize: Int) -> Int32 {
        CallBoundary.run {
            try Argument.fill(try Argument.require(params, "params"), with: defaults, size: size, minimumSize: minimumSize, name: "params")
        }
    }
}
