/// An activation's derivative computed from its output y, eight lanes at a
/// time: a loop generic over it is specialised for each activation, so
/// backward loops compute slopes where they use them, with no branch inside
/// and no buffer between.
public protocol ActivationSlope {
    static func slope(_ y: Vector.Lanes) -> Vector.Lanes
}

/// tanh′ = 1 − y².
enum TanhSlope: ActivationSlope {
    @inline(__always) static func slope(_ y: Vector.Lanes) -> Vector.Lanes { 1 - y * y }
}

/// σ′ = y·(1 − y).
enum SigmoidSlope: ActivationSlope {
    @inline(__always) static func slope(_ y: Vector.Lanes) -> Vector.Lanes { y * (1 - y) }
}

/// relu′ = 1 where y > 0, else 0.
enum ReluSlope: ActivationSlope {
    @inline(__always) static func slope(_ y: Vector.Lanes) -> Vector.Lanes {
        Vector.Lanes(repeating: 0).replacing(with: 1, where: y .> 0)
    }
}

/// The identity's slope, 1.
enum LinearSlope: ActivationSlope {
    @inline(__always) static func slope(_ y: Vector.Lanes) -> Vector.Lanes { Vector.Lanes(repeating: 1) }
}

/// Work generic over an activation's slope. `ActivationFunction.withSlope`
/// runs it with the slope type the activation names: the one place that maps
/// activations to slope types, and the work is specialised for each.
protocol SlopeSpecialised {
    associatedtype Result
    func run<S: ActivationSlope>(_ slope: S.Type) -> Result
}

extension ActivationFunction {
    /// `work` with this activation's slope (softmax, never a cell's
    /// activation, takes the identity's).
    func withSlope<Work: SlopeSpecialised>(_ work: Work) -> Work.Result {
        switch self {
        case .tanh: work.run(TanhSlope.self)
        case .relu: work.run(ReluSlope.self)
        case .sigmoid: work.run(SigmoidSlope.self)
        case .linear, .softmax: work.run(LinearSlope.self)
        }
    }
}
