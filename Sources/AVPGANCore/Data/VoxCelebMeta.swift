/// The identity table of VoxCeleb1, `vox1_meta.csv`, which joins the corpus's voice folders
/// (`id10001`) to the VGGFace picture folders of the same person (`A.J._Buckley`).
///
/// Format (as the corpus ships it): UTF-8 text, tab-separated, one header row naming the
/// columns, then one row per identity. The columns used are found by their header names
/// (case- and space-insensitive): `VoxCeleb1 ID`, `VGGFace1 ID`, and `Set` (`dev` or `test`,
/// the corpus's own speaker split); other columns (gender, nationality) are ignored. Fields
/// are trimmed; blank lines are skipped; a `\r\n` line end is accepted.
public struct VoxCelebMeta: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The voice folder's name, e.g. `id10001`.
        public var voiceID: String
        /// The face folder's name, e.g. `A.J._Buckley`; the identity's name in a data set.
        public var faceName: String
        /// The corpus's speaker split, lower-cased (`dev`, `test`), or "" without a Set column.
        public var set: String
    }

    /// Entries in file order.
    public var entries: [Entry]

    /// At most this many bytes are read (VoxCeleb1's table is 40 KB, VoxCeleb2's 250 KB).
    public static let maximumBytes = 16 << 20

    /// Parses a table; `name` names the file in messages.
    public init(text: String, name: String = "meta file") throws {
        func bad(_ line: Int, _ why: String) -> AVPGANError {
            AVPGANError.invalid("\(name), line \(line): \(why)")
        }
        // Character.isNewline covers "\n", "\r" and "\r\n" (one Character in Swift).
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        guard let headerAt = lines.firstIndex(where: { !$0.trimmingWhitespace.isEmpty }) else {
            throw AVPGANError.invalid("\(name) is empty; expected a tab-separated table with a header row (VoxCeleb1 ID, VGGFace1 ID, ...)")
        }
        let header = lines[headerAt].split(separator: "\t", omittingEmptySubsequences: false).map {
            String($0).trimmingWhitespace.lowercased().filter { $0 != " " && $0 != "_" }
        }
        func column(_ key: String) -> Int? { header.firstIndex(of: key) }
        guard let voiceColumn = column("voxceleb1id") ?? column("voxceleb2id") ?? column("voxcelebid"),
              let faceColumn = column("vggface1id") ?? column("vggface2id") ?? column("vggfaceid") else {
            throw bad(headerAt + 1, "the header must name the columns 'VoxCeleb1 ID' and 'VGGFace1 ID' (tab-separated); found \(header)")
        }
        let setColumn = column("set")
        var entries: [Entry] = [], seenVoices = Set<String>(), seenFaces = Set<String>()
        for (offset, line) in lines[(headerAt + 1)...].enumerated() where !line.trimmingWhitespace.isEmpty {
            let number = headerAt + 2 + offset
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace }
            let needed = max(voiceColumn, faceColumn, setColumn ?? 0)
            guard fields.count > needed else {
                throw bad(number, "\(fields.count) tab-separated fields, expected at least \(needed + 1)")
            }
            let entry = Entry(voiceID: fields[voiceColumn], faceName: fields[faceColumn],
                              set: setColumn.map { fields[$0].lowercased() } ?? "")
            for (value, what) in [(entry.voiceID, "voice ID"), (entry.faceName, "face name")] {
                guard !value.isEmpty, !value.contains("/"), value != ".", value != ".." else {
                    throw bad(number, "the \(what) '\(value)' is not a folder name")
                }
            }
            guard seenVoices.insert(entry.voiceID).inserted else { throw bad(number, "voice ID \(entry.voiceID) is listed twice") }
            guard seenFaces.insert(entry.faceName).inserted else { throw bad(number, "face name \(entry.faceName) is listed twice") }
            entries.append(entry)
        }
        guard !entries.isEmpty else { throw AVPGANError.invalid("\(name) lists no identities below its header") }
        self.entries = entries
    }

    /// Reads and parses the table at `path`.
    public init(path: String) throws {
        let bytes = try FileIO.read(path)
        guard bytes.count <= VoxCelebMeta.maximumBytes else {
            throw AVPGANError.invalid("'\(path)' is \(bytes.count) bytes; a meta table is at most \(VoxCelebMeta.maximumBytes)")
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), name: "'\(path)'")
    }

    /// Voice folder name -> face folder name.
    public var faceNameByVoiceID: [String: String] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.voiceID, $0.faceName) })
    }

    /// Face names whose Set is `test`.
    public var testNames: Set<String> { Set(entries.filter { $0.set == "test" }.map(\.faceName)) }
}
