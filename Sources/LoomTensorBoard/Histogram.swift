/// A histogram of values as TensorBoard stores one: the count, sum, sum of
/// squares, extremes, and counts in equal-width buckets between the least
/// and greatest value (each bucket named by its upper edge).
public struct Histogram: Equatable, Sendable {
    public var min = 0.0, max = 0.0, count = 0.0, sum = 0.0, sumOfSquares = 0.0
    public var upperEdges: [Double] = []
    public var counts: [Double] = []

    /// `bucketCount` buckets, or one when all values are equal; none for no values.
    public init(_ values: [Float], bucketCount: Int = 30) {
        guard let least = values.min(), let greatest = values.max() else { return }
        (min, max, count) = (Double(least), Double(greatest), Double(values.count))
        for v in values {
            sum += Double(v)
            sumOfSquares += Double(v) * Double(v)
        }
        let buckets = least == greatest ? 1 : bucketCount
        let width = (max - min) / Double(buckets)
        upperEdges = (1...buckets).map { $0 == buckets ? max : min + Double($0) * width }
        counts = [Double](repeating: 0, count: buckets)
        for v in values {
            let i = width > 0 ? Int((Double(v) - min) / width) : 0
            counts[Swift.min(Swift.max(i, 0), buckets - 1)] += 1
        }
    }

    var proto: Tensorboard_HistogramProto {
        var h = Tensorboard_HistogramProto()
        h.min = min
        h.max = max
        h.num = count
        h.sum = sum
        h.sumSquares = sumOfSquares
        h.bucketLimit = upperEdges
        h.bucket = counts
        return h
    }
}

extension Histogram {
    /// The histogram a stored one describes.
    init(_ proto: Tensorboard_HistogramProto) {
        (min, max, count, sum, sumOfSquares) = (proto.min, proto.max, proto.num, proto.sum, proto.sumSquares)
        (upperEdges, counts) = (proto.bucketLimit, proto.bucket)
    }
}
