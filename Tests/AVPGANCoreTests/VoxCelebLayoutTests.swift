@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The VoxCeleb1/VGGFace layout: vox1_meta.csv joins `id1000N` voice folders to VGGFace names,
/// the paper's and the corpus's splits, and Voice2Face's `.npy` features as voices.
final class VoxCelebLayoutTests: XCTestCase {
    let table = """
    VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet
    id10001\tA.J._Buckley\tm\tIreland\tdev
    id10270\tEartha_Kitt\tf\tUSA\ttest\r
    id10271\tEd_Westwick\tm\tUK\ttest

    id10310\tFanny_Ardant\tf\tNorway\tdev
    id10334\tGilles_Marini\tm\tNorway\tdev
    id10999\tZed_Nobody\tm\tUK\tdev
    """

    func testMetaTableParses() throws {
        let meta = try VoxCelebMeta(text: table)
        XCTAssertEqual(meta.entries.count, 6, "blank lines are skipped, a CRLF row is read")
        XCTAssertEqual(meta.faceNameByVoiceID["id10270"], "Eartha_Kitt")
        XCTAssertEqual(meta.testNames, ["Eartha_Kitt", "Ed_Westwick"], "the Set column's test speakers")
        // Columns are found by header name, in any order.
        let swapped = try VoxCelebMeta(text: "Set\tVGGFace1 ID\tVoxCeleb1 ID\ndev\tX_Y\tid1\n")
        XCTAssertEqual(swapped.entries, [.init(voiceID: "id1", faceName: "X_Y", set: "dev")])
    }

    func testMetaTableRejectsDamage() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("ID\tName\nid1\tX\n", "'VoxCeleb1 ID' and 'VGGFace1 ID'"),
            ("VoxCeleb1 ID\tVGGFace1 ID\nid1\n", "line 2: 1 tab-separated fields"),
            ("VoxCeleb1 ID\tVGGFace1 ID\nid1\t../etc\n", "not a folder name"),
            ("VoxCeleb1 ID\tVGGFace1 ID\nid1\tA\nid1\tB\n", "listed twice"),
            ("VoxCeleb1 ID\tVGGFace1 ID\nid1\tA\nid2\tA\n", "listed twice"),
            ("VoxCeleb1 ID\tVGGFace1 ID\n\n", "no identities"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try VoxCelebMeta(text: text), "table \(text.debugDescription) must be refused") { error in
                XCTAssertTrue("\(error)".contains(expected), "message for \(text.debugDescription): \(error); expected it to say \(expected)")
            }
        }
    }

    func testCorpusLayoutJoinsAndSplits() throws {
        let root = Fixtures.temporaryDirectory("voxceleb")
        defer { Fixtures.removeDirectory(root) }
        try FileIO.write(Array(table.utf8), to: "\(root)/vox1_meta.csv")
        let meta = try VoxCelebMeta(path: "\(root)/vox1_meta.csv")
        for dir in ["wav", "faces"] { mkdir("\(root)/\(dir)", 0o755) }
        // Voices as the corpus ships them: wav/<VoxCeleb1 ID>/<video>/<clip>.wav; faces by VGGFace name.
        for (id, name) in [("id10001", "A.J._Buckley"), ("id10270", "Eartha_Kitt"), ("id10310", "Fanny_Ardant"),
                           ("id10334", "Gilles_Marini"), ("id10999", "Zed_Nobody")] {
            for path in ["wav/\(id)", "wav/\(id)/1zcIwhmdeo4", "faces/\(name)"] { mkdir("\(root)/\(path)", 0o755) }
            try FileIO.write([0], to: "\(root)/wav/\(id)/1zcIwhmdeo4/00001.wav")
            try FileIO.write([0], to: "\(root)/wav/\(id)/1zcIwhmdeo4/00002.wav")
            try FileIO.write([0], to: "\(root)/faces/\(name)/00000001.jpg")
        }
        mkdir("\(root)/faces/Ed_Westwick", 0o755)  // a face folder whose voices are missing is unused
        try FileIO.write([0], to: "\(root)/faces/Ed_Westwick/1.jpg")

        let paper = try DatasetIndex(voices: "\(root)/wav", faces: "\(root)/faces", meta: meta, split: .initialLetter)
        XCTAssertEqual(paper.validation.map(\.name), ["A.J._Buckley"], "named by VGGFace, A-B validation")
        XCTAssertEqual(paper.test.map(\.name), ["Eartha_Kitt"], "C-E test")
        XCTAssertEqual(paper.train.map(\.name), ["Fanny_Ardant", "Gilles_Marini", "Zed_Nobody"])
        XCTAssertEqual(paper.train[0].voices.count, 2, "clips under video folders are found")
        XCTAssertTrue(paper.train[0].voices[0].hasSuffix("id10310/1zcIwhmdeo4/00001.wav"), "voice files keep their corpus paths")

        let corpus = try DatasetIndex(voices: "\(root)/wav", faces: "\(root)/faces", meta: meta, split: .corpusSet)
        XCTAssertEqual(corpus.test.map(\.name), ["Eartha_Kitt"], "Set = test held out")
        XCTAssertEqual(corpus.train.map(\.name), ["A.J._Buckley", "Fanny_Ardant", "Gilles_Marini", "Zed_Nobody"])
        try FileIO.write(Array("Eartha_Kitt\r\nFanny_Ardant\r\n".utf8), to: "\(root)/test.txt")
        let listed = try DatasetIndex(voices: "\(root)/wav", faces: "\(root)/faces", meta: meta, split: .heldOutList("\(root)/test.txt"))
        XCTAssertEqual(listed.test.map(\.name), ["Eartha_Kitt", "Fanny_Ardant"], "a CRLF test list names two identities")
        XCTAssertThrowsError(try DatasetIndex(voices: "\(root)/wav", faces: "\(root)/faces", split: .corpusSet),
                             "the corpus split without a table is refused")
        let unjoined = try? DatasetIndex(voices: "\(root)/wav", faces: "\(root)/faces", split: .heldOutList(nil))
        XCTAssertNil(unjoined, "without the table no voice folder matches a face folder")
    }

    func testVoice2FaceFeatureFilesAreVoices() throws {
        let root = Fixtures.temporaryDirectory("fbank")
        defer { Fixtures.removeDirectory(root) }
        let frames = 5
        let values = (0..<(frames * 64)).map { Float($0 % 17) / 8 - 1 }
        try FileIO.write(NPY.write(values, shape: [frames, 64]), to: "\(root)/a.npy")
        let cache = try FeatureCache(directory: "\(root)/cache")
        let read = try cache.features("\(root)/a.npy")
        XCTAssertEqual(read.frames, frames)
        XCTAssertEqual(read.values, values, "a .npy voice is taken as it is")
        try FileIO.write(NPY.write(values, shape: [frames * 2, 32]), to: "\(root)/b.npy")
        XCTAssertThrowsError(try cache.features("\(root)/b.npy"), "a [10, 32] array is not voice features")
        var bad = values; bad[7] = .nan
        try FileIO.write(NPY.write(bad, shape: [frames, 64]), to: "\(root)/c.npy")
        XCTAssertThrowsError(try cache.features("\(root)/c.npy"), "a NaN is refused")
        XCTAssertTrue(DatasetIndex.voiceExtensions.isSuperset(of: AudioDecoder.fileExtensions.union(["npy"])),
                      "data sets take every audio format portraits take, and .npy features")
    }
}
