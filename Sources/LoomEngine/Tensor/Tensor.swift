/// A dense array of Float32 with a shape, row-major. Batches come first
/// (`[batch, height, width, channels]`, as Keras lays them out). A value
/// type: copies share storage until one is written.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var storage: [Float]

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count, "Tensor: \(storage.count) values for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose values `body` writes, every one of them: no zero fill
    /// first. For outputs that a matrix product or a full pass overwrites.
    /// An empty tensor does not call `body`.
    public init(shape: [Int], writingEvery body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        storage = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { body(buffer) }
            initialized = count
        }
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, storage: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { storage.count }

    /// Values that are exactly zero.
    public var zeroCount: Int { storage.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
    public var rank: Int { shape.count }

    /// The first dimension: samples in a batch.
    public var batch: Int { shape.first ?? 0 }

    /// Values per sample.
    public var sampleSize: Int { shape.dropFirst().reduce(1, *) }

    /// The same values under another shape with as many elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    public subscript(i: Int) -> Float {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    /// Samples `indices` of a batch, in that order.
    public func gathering(samples indices: [Int]) -> Tensor {
        let size = sampleSize
        return Tensor(shape: [indices.count] + Array(shape.dropFirst())) { dst in
            storage.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    (dst.baseAddress! + k * size).initialize(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
    }
}

/// Buffers a layer keeps from batch to batch (patches, pooling winners).
enum Scratch {
    /// `kept` itself when `reuse` and it holds `count` values — taken out of
    /// its field, so writing it copies nothing (put it back after) — else a
    /// fresh buffer of zeros, leaving `kept` alone.
    static func take<T: Numeric>(_ kept: inout [T], count: Int, reuse: Bool) -> [T] {
        guard reuse, kept.count == count else { return [T](repeating: 0, count: count) }
        defer { kept = [] }
        return kept
    }
}
