/// The networks of a GAN training checkpoint in the enhancer's and the face prior's layout: per
/// group (`g`, `ema`, `d`, …) every tensor under `<prefix>.<name>`, and for a group with an
/// optimiser Adam's two moments of each trained tensor (`CheckpointValues`' prefixes before
/// `<prefix>.<name>`) and the optimiser's step in the metadata (`<key>.adam_step.<prefix>`).
/// Shared by `EnhancerTrainingStep+Checkpoint` and `PriorTrainingStep+Checkpoint`.
typealias TrainingCheckpointGroup = (prefix: String, values: [String: FloatStorage], names: [String], optimizer: OptimizedParameters?)

enum TrainingCheckpointGroups {
    /// Every group's tensors and moments, in order; each optimiser's step goes into `metadata`.
    static func tensors(_ groups: [TrainingCheckpointGroup], key: String, metadata: inout [String: String]) -> [SafetensorsWriter.Tensor] {
        var tensors: [SafetensorsWriter.Tensor] = []
        for g in groups {
            for name in g.names {
                let v = g.values[name]!
                tensors.append(.init(name: "\(g.prefix).\(name)", shape: [v.count], floats: v.array))
            }
            guard let o = g.optimizer else { continue }
            for name in o.trained {
                let state = o.adam[name]!
                tensors.append(.init(name: "\(CheckpointValues.firstMomentPrefix)\(g.prefix).\(name)", shape: [state.count], floats: state.expAvg.array))
                tensors.append(.init(name: "\(CheckpointValues.secondMomentPrefix)\(g.prefix).\(name)", shape: [state.count], floats: state.expAvgSq.array))
            }
            metadata["\(key).adam_step.\(g.prefix)"] = String(o.step)
        }
        return tensors
    }

    /// Puts each optimiser's step (from `fields`) and moments (from a checked read) back.
    static func restoreOptimizers(_ groups: [TrainingCheckpointGroup], fields: CheckpointMetadataFields,
                                  expAvg: [String: [Float]], expAvgSq: [String: [Float]]) throws {
        for g in groups {
            guard let o = g.optimizer else { continue }
            o.step = try fields.integer("adam_step.\(g.prefix)")
            for name in o.trained {
                let state = o.adam[name]!
                state.expAvg.pointer.update(from: expAvg["\(g.prefix).\(name)"]!, count: state.count)
                state.expAvgSq.pointer.update(from: expAvgSq["\(g.prefix).\(name)"]!, count: state.count)
            }
        }
    }
}
