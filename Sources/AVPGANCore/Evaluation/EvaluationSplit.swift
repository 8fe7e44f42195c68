/// Which identities of a data set an evaluation takes: one of its splits (`DatasetIndex`'s
/// train / validation / test), every identity, or identities named one by one.
public enum EvaluationSplit: String, CaseIterable, Sendable {
    case test, validation, train, all
}

extension DatasetIndex {
    /// The identities of `split`; `.all` is every identity sorted by name.
    public func identities(in split: EvaluationSplit) -> [Identity] {
        switch split {
        case .test: return test
        case .validation: return validation
        case .train: return train
        case .all: return (train + validation + test).sorted { $0.name < $1.name }
        }
    }

    /// The identities called `names`, in that order, from any split; a name with no voices or no
    /// faces in the data set is an `invalidArgument` error naming it (`voices`, `faces`: the
    /// folders, for the message).
    public func identities(named names: [String], voices: String, faces: String) throws -> [Identity] {
        let everyone = identities(in: .all)
        let byName = Dictionary(everyone.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return try names.map { name in
            guard let identity = byName[name] else {
                throw AVPGANError(.invalidArgument, "identity '\(name)' has no voices or no faces under \(voices) and \(faces)")
            }
            return identity
        }
    }
}
