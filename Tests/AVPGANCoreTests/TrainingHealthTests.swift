@testable import AVPGANCore
import XCTest

/// The health monitor raises each warning on the signal it names, only after the warm-up, keeps
/// it, and survives checkpoints exactly; the batch spread measures what it says.
final class TrainingHealthTests: XCTestCase {
    /// Losses of a balanced run (the voice2face numbers of issue 11) and a healthy spread.
    let healthy: [Float] = [0.20, 0.26, 1.0, 2.0, 0.17]

    func feed(_ h: inout TrainingHealth, steps: Range<Int>, losses: [Float], spread: Float, identities: Int = 24) {
        for s in steps { h.observe(losses: losses, spread: spread, identities: identities, step: s + 1) }
    }

    func testHealthyRunRaisesNothing() {
        var h = TrainingHealth()
        feed(&h, steps: 0..<3000, losses: healthy, spread: 0.2)
        XCTAssertTrue(h.isHealthy, "a balanced run was flagged: \(h.summary)")
    }

    func testNothingIsJudgedDuringWarmUp() {
        var h = TrainingHealth()
        // A fresh generator: every face alike, classifier at chance, discriminator certain.
        feed(&h, steps: 0..<(TrainingHealth.defaultWarmUp - 1), losses: [1e-6, 1e-6, 3, 12, 5], spread: 0)
        XCTAssertTrue(h.isHealthy, "warnings before step \(TrainingHealth.defaultWarmUp): \(h.summary)")
    }

    func testOnlyCollapseAndARunawayDiscriminatorStopARun() {
        XCTAssertEqual(TrainingHealth.Warning.allCases.filter(\.stopsRun), [.collapse, .discriminatorWins])
    }

    func testWarmUpIsTheRunsChoice() {
        var h = TrainingHealth(warmUp: 1)
        h.observe(losses: healthy, spread: 0.0001, identities: 24, step: 1)
        XCTAssertEqual(h.warnings, [.collapse], "judged from the first step")
        XCTAssertEqual(try TrainingHealth(json: try JSON.parse(h.json.serialized)).warmUp, 1)
    }

    func testEachWarningOnItsOwnSignal() {
        // The collapsed avpgan run of issue 11: D wins, classifier worse than chance, one face.
        var h = TrainingHealth()
        feed(&h, steps: 0..<600, losses: [4e-9, 3e-5, 0.5, 10.5, 3.9], spread: 0.001)
        XCTAssertEqual(Set(h.warnings), [.collapse, .discriminatorWins, .classifierAtChance], h.summary)
        XCTAssertEqual(h.raised.first?.step, TrainingHealth.defaultWarmUp, "raised at the first judged step")

        var onlySpread = TrainingHealth()
        feed(&onlySpread, steps: 0..<600, losses: healthy, spread: 0.001)
        XCTAssertEqual(onlySpread.warnings, [.collapse])

        var onlyD = TrainingHealth()
        feed(&onlyD, steps: 0..<600, losses: [0.001, 0.002, 1, 8, 0.5], spread: 0.2)
        XCTAssertEqual(onlyD.warnings, [.discriminatorWins])

        var onlyC = TrainingHealth()
        feed(&onlyC, steps: 0..<600, losses: [0.3, 0.3, 1, 2, log(Float(24)) + 0.01], spread: 0.2)
        XCTAssertEqual(onlyC.warnings, [.classifierAtChance])
        var justBelowChance = TrainingHealth()
        feed(&justBelowChance, steps: 0..<600, losses: [0.3, 0.3, 1, 2, log(Float(24)) - 0.05], spread: 0.2)
        XCTAssertTrue(justBelowChance.isHealthy, justBelowChance.summary)
    }

    func testBatchesOfOneAreNotCalledCollapsed() {
        var h = TrainingHealth()
        for s in 0..<800 { h.observe(losses: healthy, spread: nil, identities: 24, step: s + 1) }
        XCTAssertTrue(h.isHealthy, "a batch of one has no spread to judge: \(h.summary)")
        XCTAssertEqual(try TrainingHealth(json: try JSON.parse(h.json.serialized)), h, "NaN spread state round-trips")
    }

    func testSignalsAreMovingAveragesAndWarningsStay() {
        var h = TrainingHealth()
        feed(&h, steps: 0..<1000, losses: healthy, spread: 0.2)
        // Ten collapsed batches do not move a 100-step average below the threshold ...
        feed(&h, steps: 1000..<1010, losses: healthy, spread: 0)
        XCTAssertTrue(h.isHealthy, h.summary)
        // ... a sustained collapse does, and recovery does not clear the warning.
        feed(&h, steps: 1010..<1400, losses: healthy, spread: 0)
        XCTAssertEqual(h.warnings, [.collapse])
        let at = h.raised[0].step
        XCTAssertGreaterThan(at, 1010)
        feed(&h, steps: 1400..<2000, losses: healthy, spread: 0.3)
        XCTAssertEqual(h.warnings, [.collapse])
        XCTAssertEqual(h.raised[0].step, at)
    }

    func testJSONRoundTripIsExact() throws {
        var h = TrainingHealth()
        feed(&h, steps: 0..<700, losses: [0.001, 0.002, 1, 8, 0.5], spread: 0.123456789)
        let back = try TrainingHealth(json: try JSON.parse(h.json.serialized))
        XCTAssertEqual(back, h)
        var a = h, b = back
        feed(&a, steps: 700..<900, losses: healthy, spread: 0.01)
        feed(&b, steps: 700..<900, losses: healthy, spread: 0.01)
        XCTAssertEqual(a, b, "a resumed monitor continues exactly")
        XCTAssertThrowsError(try TrainingHealth(json: try JSON.parse("{\"steps\": 3}"))) { XCTAssertTrue("\($0)".contains("health"), "\($0)") }
        XCTAssertThrowsError(try TrainingHealth(json: try JSON.parse("{\"steps\": 3, \"state\": \"1 2 3\", \"warnings\": [{\"warning\": \"bored\", \"step\": 1}]}")))
    }

    func testBatchSpread() throws {
        // Two images per channel-plane: values a and b give std |a - b| / 2; clamped to [-1, 1].
        var data: [Float] = [0.2, 0.2, 0.6, 0.6,  // channel 0: image 0 (2 pixels), image 1
                             5, -5, 1, 1]  // channel 1: clamped to 1, -1 and 1, 1
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 8)  // 2 x C x H x W
        defer { sums.deallocate() }
        let spread = data.withUnsafeMutableBufferPointer { p in
            GANTrainer.batchSpread(FeatureMap(data: p.baseAddress!, channels: 2, batch: 2, height: 1, width: 2), sums: sums)
        }
        // channel 0: 0.2, 0.2; channel 1: 0, 1 -> mean (0.2 + 0.2 + 0 + 1) / 4 = 0.35
        XCTAssertEqual(spread, 0.35, accuracy: 1e-6)
        var same: [Float] = [0.5, -0.5, 0.5, -0.5]
        let zero = same.withUnsafeMutableBufferPointer { p in
            GANTrainer.batchSpread(FeatureMap(data: p.baseAddress!, channels: 1, batch: 2, height: 1, width: 2), sums: sums)
        }
        XCTAssertEqual(zero, 0, "identical images have no spread")
    }
}
