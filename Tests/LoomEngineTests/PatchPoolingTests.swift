import LoomEngine
import XCTest

/// Patches cut from images and their codes pooled over a grid of regions,
/// against values worked out by hand.
final class PatchPoolingTests: XCTestCase {
    /// Two 4×4 one-channel images: pixel (y, x) is 4y + x − 8 in the first, its negative in the second.
    let images = Tensor(shape: [2, 4, 4, 1], storage: (0..<16).map { Float($0 - 8) } + (0..<16).map { Float(8 - $0) })
    let layout = PatchPooling.Layout(height: 4, width: 4, channels: 1, size: 2, stride: 1)

    func testPatchesAreCutRowsThenColumnsAndFlattenedRowByRow() {
        let patches = PatchPooling.patches(of: images, layout)
        XCTAssertEqual(patches.shape, [18, 4])
        XCTAssertEqual(Array(patches.storage[0..<4]), [-8, -7, -4, -3])      // image 1, top left
        XCTAssertEqual(Array(patches.storage[8..<12]), [-6, -5, -2, -1])     // image 1, top right
        XCTAssertEqual(Array(patches.storage[32..<36]), [2, 3, 6, 7])        // image 1, bottom right
        XCTAssertEqual(Array(patches.storage[36..<40]), [8, 7, 4, 3])        // image 2, top left
    }

    func testStrideSkipsPositionsAndChannelsStayTogether() {
        let colour = Tensor(shape: [1, 3, 3, 2], storage: (0..<18).map(Float.init))
        let strided = PatchPooling.Layout(height: 3, width: 3, channels: 2, size: 1, stride: 2)
        XCTAssertEqual(strided.rows, 2)
        XCTAssertEqual(PatchPooling.patches(of: colour, strided).storage, [0, 1, 4, 5, 12, 13, 16, 17])
    }

    /// Codes that pick a patch's top-left pixel (atom 1) and bottom-right pixel
    /// (atom 2); the 3×3 patch positions fall in regions {0, 1} and {2}.
    func pooled(_ pool: PatchPooling.Pool) -> [Float] {
        let patches = PatchPooling.patches(of: images, layout)
        let values = (0..<patches.batch).flatMap { [patches.storage[$0 * 4], patches.storage[$0 * 4 + 3]] }
        return PatchPooling.pool(SparseCodes(values: values, samples: 18, atoms: 2), images: 2, layout, grid: 2, pool)
    }

    func testMaxPoolingKeepsTheLargestMagnitudeOfEachAtomInEachRegion() {
        let first: [Float] = [8, 3, 6, 3, 1, 6, 2, 7]
        XCTAssertEqual(pooled(.max), first + first)
    }

    func testSumPoolingAddsTheCodesOfEachRegion() {
        let first: [Float] = [-22, -2, -8, 2, 1, 11, 2, 7]
        XCTAssertEqual(pooled(.sum), first + first.map { -$0 })
    }
}
