import XCTest
import LoomEngine

/// The cache folder, and the stratified first N of a part.
final class DataCacheTests: XCTestCase {
    func testCacheFolderIsLOOMDATAElseTheUsersCache() {
        let env = ["LOOM_DATA": "/data/sets/", "HOME": "/home/ada"]
        XCTAssertEqual(DataCache.root { env[$0] }, "/data/sets")
        XCTAssertEqual(DataCache.folder(of: Catalog.fashionMNIST) { env[$0] }, "/data/sets/fashion-mnist")
        XCTAssertEqual(DataCache.root { ["HOME": "/home/ada"][$0] }, "/home/ada/.cache/loom/datasets")
        XCTAssertEqual(DataCache.root { ["HOME": "/home/ada", "LOOM_DATA": ""][$0] }, "/home/ada/.cache/loom/datasets")
    }

    /// Worked by hand: equal shares where counts allow, the rest of a small
    /// class's share spread over the others, the remainder to the lowest classes.
    func testEvenQuotas() {
        XCTAssertEqual(Dataset.evenQuotas([10, 10, 10], total: 7), [3, 2, 2])
        XCTAssertEqual(Dataset.evenQuotas([1, 10, 10], total: 9), [1, 4, 4])
        XCTAssertEqual(Dataset.evenQuotas([1, 10, 3], total: 9), [1, 5, 3])
        XCTAssertEqual(Dataset.evenQuotas([0, 5, 5], total: 3), [0, 2, 1])
        XCTAssertEqual(Dataset.evenQuotas([2, 6, 2, 2], total: 100), [2, 6, 2, 2])
        XCTAssertEqual(Dataset.evenQuotas([6000, 6000], total: 0), [0, 0])
    }

    func testFirstStratifiedKeepsFileOrder() {
        let labels = [1, 1, 1, 0, 1, 0, 2]
        let data = Dataset(inputs: Tensor(shape: [7, 1], storage: (0..<7).map(Float.init)), labels: labels)
        let first = data.firstStratified(4)
        XCTAssertEqual(first.inputs.storage, [0, 3, 5, 6])
        XCTAssertEqual(first.labels, [1, 0, 0, 2])
        XCTAssertEqual(data.firstStratified(5).inputs.storage, [0, 1, 3, 5, 6])
        XCTAssertEqual(data.firstStratified(9).count, 7)
    }
}
