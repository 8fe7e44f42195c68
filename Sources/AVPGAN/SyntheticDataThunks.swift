import AVPGANCore
import CAVPGAN

// Synthetic data-set entry points (avpgan synth-data).

private let syntheticParamsSize = MemoryLayout<avpgan_synthetic_params>.stride
private let defaultSyntheticParams = avpgan_synthetic_params(
    struct_size: syntheticParamsSize, speakers: 20, utterances: 4, faces: 4, seed: 1,
    progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

@_cdecl("avpgan_synthetic_params_init")
public func avpgan_synthetic_params_init(_ params: UnsafeMutablePointer<avpgan_synthetic_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultSyntheticParams, minimumSize: syntheticParamsSize)
}

@_cdecl("avpgan_synthetic_dataset_write")
public func avpgan_synthetic_dataset_write(_ dir: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_synthetic_params>?) -> Int32 {
    CallBoundary.run {
        let dir = try DatasetArguments.string(dir, "dir")
        let p = try Argument.params(params, defaults: defaultSyntheticParams, minimumSize: syntheticParamsSize, name: "params")
        for (value, name, range) in [(p.speakers, "speakers", SyntheticDataSet.speakerRange),
                                     (p.utterances, "utterances", SyntheticDataSet.perSpeakerRange),
                                     (p.faces, "faces", SyntheticDataSet.perSpeakerRange)] where !range.contains(Int(value)) {
            throw AVPGANError(.invalidArgument, "params.\(name) is \(value), expected \(range.lowerBound)...\(range.upperBound)")
        }
        try SyntheticDataSet.write(to: dir, speakers: Int(p.speakers), utterances: Int(p.utterances), faces: Int(p.faces), seed: p.seed,
                                   progress: progressReporter(p.progress, p.progress_user_data),
                                   shouldStop: stopAsker(p.abort_fn, p.abort_user_data))
    }
}
