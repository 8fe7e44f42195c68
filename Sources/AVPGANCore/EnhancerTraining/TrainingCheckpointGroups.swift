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

    /// A checkpoint's bytes: the groups' tensors (`tensors`) with `metadata`, which gains each
    /// optimiser's step, `<key>` = "1" and every one of `fields` as `<key>.<field>`.
    static func serialize(_ groups: [TrainingCheckpointGroup], key: String, metadata: [String: String], fields: [String: String]) -> [UInt8] {
        var metadata = metadata
        let tensors = tensors(groups, key: key, metadata: &metadata)
        metadata[key] = "1"
        for (k, v) in fields { metadata["\(key).\(k)"] = v }
        return SafetensorsWriter.serialize(tensors, metadata: metadata)
    }

    /// The metadata fields of a checkpoint that `serialize` marked with `key`; throws
    /// `.modelFormat` "not <noun> (metadata <key> is missing)" for any other file.
    static func fields(_ file: Safetensors, key: String, what: String, noun: String) throws -> CheckpointMetadataFields {
        guard file.metadata[key] == "1" else { throw AVPGANError.format("not \(noun) (metadata \(key) is missing)") }
        return CheckpointMetadataFields(metadata: file.metadata, key: key, what: what)
    }

    /// The groups' tensors as a checkpoint holds them, read through the checked reader: per
    /// group (prefix, every tensor's name and shape, the names its optimiser trains) exactly
    /// those tensors and the moments of the trained ones. `kind` names the file in messages.
    static func read(_ file: Safetensors, groups: [(prefix: String, shapes: [(name: String, shape: [Int])], trained: [String])],
                     kind: String) throws -> Read {
        let layout = groups.flatMap { g in g.shapes.map { (name: "\(g.prefix).\($0.name)", shape: [$0.shape.reduce(1, *)]) } }
        let trained = groups.flatMap { g in
            g.trained.map { name in (name: "\(g.prefix).\(name)", shape: [g.shapes.first { $0.name == name }!.shape.reduce(1, *)]) }
        }
        let read = try CheckpointValues.read(file, layout: layout, trained: trained, kind: kind)
        return Read(all: read.tensors, expAvg: read.expAvg, expAvgSq: read.expAvgSq)
    }

    /// What `read` returns: every tensor under its full name, and Adam's moments.
    struct Read {
        let all: [String: [Float]], expAvg: [String: [Float]], expAvgSq: [String: [Float]]

        /// The tensors of the group `prefix`, under their names within it.
        func tensors(_ prefix: String) -> [String: [Float]] {
            var out: [String: [Float]] = [:]
            for (name, v) in all where name.hasPrefix(prefix + ".") { out[String(name.dropFirst(prefix.count + 1))] = v }
            return out
        }
    }
}
