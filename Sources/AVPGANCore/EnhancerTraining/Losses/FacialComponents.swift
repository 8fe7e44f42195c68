/// The eye and mouth regions of GFPGAN's facial-component losses for one face of `size` px,
/// in the format of GFPGAN's landmark file (FFHQ_eye_mouth_landmarks_512.pth): per component
/// a centre and a half side, in pixels (pixel i's centre at i, as roi_align reads boxes).
/// GFPGAN's FFHQDegradationDataset turns one into the box
/// `(cx - h + 1, cy - h + 1, cx + h, cy + h)`, eyes with `h` enlarged 1.4 times
/// (`eye_enlarge_ratio`); the crops are `roi_align`ed to 80 px (eyes) and 120 px (mouth) at
/// 512 px, here `80·size/512` and `120·size/512` rounded (20 and 30 at 128 px, 40 and 60 at
/// 256). Upstream's int(size / 512) factor on the sizes and values is 1 at 512 and 0 below, so
/// it is not applied.
struct FacialComponents: Equatable {
    struct Component: Equatable {
        var centerX: Float, centerY: Float, halfLength: Float
    }

    var leftEye: Component
    var rightEye: Component
    var mouth: Component

    static let eyeEnlargeRatio: Float = 1.4

    /// The template for aligned faces, at 512 px: the project's procedural faces
    /// (`SyntheticFace`, drawn at 64 px: face centre (32, 33), eyes at ±6.5 px (spacing 5 to 8)
    /// and 3 px above it, mouth 9 px below) times 8: eyes (204, 240) and (308, 240) with half
    /// side 32 (the widest eye white, 4.4 px at 64, is 35 px; enlarged 1.4 times the box is
    /// 90 px), mouth (256, 336) with half side 48 (the widest mouth, 6 px at 64).
    /// Faces aligned otherwise (FFHQ's alignment) should pass their own landmarks.
    static let template512 = FacialComponents(
        leftEye: Component(centerX: 204, centerY: 240, halfLength: 32),
        rightEye: Component(centerX: 308, centerY: 240, halfLength: 32),
        mouth: Component(centerX: 256, centerY: 336, halfLength: 48))

    /// `template512` scaled to a `size` px face (centres and half sides times size / 512).
    static func template(size: Int) -> FacialComponents {
        let s = Float(size) / 512
        func scaled(_ c: Component) -> Component { Component(centerX: c.centerX * s, centerY: c.centerY * s, halfLength: c.halfLength * s) }
        return FacialComponents(leftEye: scaled(template512.leftEye), rightEye: scaled(template512.rightEye),
                                mouth: scaled(template512.mouth))
    }

    /// Crop sides for a `size` px face: eyes 80·size/512, mouth 120·size/512, rounded, at least 1.
    static func cropSizes(faceSize size: Int) -> (eye: Int, mouth: Int) {
        (max(1, Int((Float(80 * size) / 512).rounded())), max(1, Int((Float(120 * size) / 512).rounded())))
    }

    /// GFPGAN's box of `c` on image `image`, enlarged when it is an eye.
    static func box(_ c: Component, eye: Bool, image: Int) -> RoIAlign.Box {
        let h = eye ? c.halfLength * eyeEnlargeRatio : c.halfLength
        return RoIAlign.Box(image: image, x1: c.centerX - h + 1, y1: c.centerY - h + 1, x2: c.centerX + h, y2: c.centerY + h)
    }

    /// Throws `invalidArgument` naming the image and component unless every centre lies in the
    /// `size` px image and every half side is positive (all finite).
    func validate(size: Int, image: Int) throws {
        for (name, c) in [("left eye", leftEye), ("right eye", rightEye), ("mouth", mouth)] {
            let inside = c.centerX >= 0 && c.centerX < Float(size) && c.centerY >= 0 && c.centerY < Float(size)
            guard inside, c.halfLength > 0, c.halfLength.isFinite else {
                throw AVPGANError.invalid("face \(image): the \(name) landmark (centre \(c.centerX), \(c.centerY), half side \(c.halfLength)) is outside the \(size) px image or empty")
            }
        }
    }

    /// The crops of a batch of faces (NCHW `[batch, channels, size, size]`, one `FacialComponents`
    /// per face): `eyes` `[2·batch, channels, e, e]` (left and right eye of face 0, then of face
    /// 1, as GFPGAN's `all_eyes`), `mouths` `[batch, channels, m, m]`, sizes from `cropSizes`.
    static func crop(_ images: UnsafePointer<Float>, channels: Int, size: Int, components: [FacialComponents],
                     eyes: UnsafeMutablePointer<Float>, mouths: UnsafeMutablePointer<Float>) {
        let (e, m) = cropSizes(faceSize: size)
        RoIAlign.forward(images, channels: channels, height: size, width: size, boxes: eyeBoxes(components), size: e, into: eyes)
        RoIAlign.forward(images, channels: channels, height: size, width: size, boxes: mouthBoxes(components), size: m, into: mouths)
    }

    /// Reverse mode of `crop`: the crops' gradients are ADDED into `gradImages`.
    static func cropBackward(gradEyes: UnsafePointer<Float>, gradMouths: UnsafePointer<Float>, channels: Int, size: Int,
                             components: [FacialComponents], into gradImages: UnsafeMutablePointer<Float>) {
        let (e, m) = cropSizes(faceSize: size)
        RoIAlign.backward(gradEyes, channels: channels, height: size, width: size, boxes: eyeBoxes(components), size: e, into: gradImages)
        RoIAlign.backward(gradMouths, channels: channels, height: size, width: size, boxes: mouthBoxes(components), size: m, into: gradImages)
    }

    static func eyeBoxes(_ components: [FacialComponents]) -> [RoIAlign.Box] {
        components.enumerated().flatMap { i, c in [box(c.leftEye, eye: true, image: i), box(c.rightEye, eye: true, image: i)] }
    }

    static func mouthBoxes(_ components: [FacialComponents]) -> [RoIAlign.Box] {
        components.enumerated().map { i, c in box(c.mouth, eye: false, image: i) }
    }
}
