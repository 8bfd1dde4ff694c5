/// An activation's derivative computed from its output y, eight lanes at a
/// time: a loop generic over it is specialised for each activation, so
/// backward loops compute slopes where they use them, with no branch inside
/// and no buffer between.
protocol ActivationSlope {
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
