/// Two recurrent cells over one sequence, Keras's `Bidirectional` with
/// `merge_mode='concat'`: `forward` reads the steps in order, `backward`
/// from the last to the first, and their outputs are concatenated — the
/// last states `[2·units]`, or with `sequences` every step's `[steps,
/// 2·units]`, the backward cell's put back in time order.
public final class Bidirectional: Layer {
    public let forward: any RecurrentCell
    public let backward: any RecurrentCell

    init(forward: any RecurrentCell, backward: any RecurrentCell) {
        self.forward = forward
        self.backward = backward
    }

    public var name: String { forward.name }
    public var kind: String { "bidirectional " + forward.kind }
    public var inputShape: [Int] { forward.inputShape }
    public var outputShape: [Int] { forward.outputShape.dropLast() + [2 * forward.units] }
    public var parameters: [Parameter] { forward.parameters + backward.parameters }
    public var state: [LayerState] { forward.state + backward.state }
    public var multiplyAdds: Int { forward.multiplyAdds + backward.multiplyAdds }
    public var trainingFloatsPerSample: Int {
        forward.trainingFloatsPerSample + backward.trainingFloatsPerSample + 2 * inputShape.reduce(1, *) + 2 * outputSize
    }
    public var unsharedParameters: Int { forward.unsharedParameters + backward.unsharedParameters }
    public var unrollsOverSteps: Bool { true }
    public var minimumShard: Int { forward.minimumShard }

    /// Both cells' gates, the forward cell's first.
    public var weightGrids: [ReportGrid] { forward.gateGrids(label: "forward ") + backward.gateGrids(label: "backward ") }
    /// The forward cell's steps.
    public func trace(_ x: Tensor, after earlier: RecurrentTrace?, keepingStatesOf kept: Int) -> RecurrentTrace? {
        forward.trace(x, after: earlier, keepingStatesOf: kept)
    }

    public func replica(on parameters: [Parameter]) -> Layer {
        let split = forward.parameters.count
        return Bidirectional(forward: forward.replicated(on: Array(parameters[..<split])),
                             backward: backward.replicated(on: Array(parameters[split...])))
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let ahead = forward.forward(x, training: training)
        var behind = backward.forward(Bidirectional.reversedInTime(x), training: training)
        if forward.returnsSequences { behind = Bidirectional.reversedInTime(behind) }
        return Bidirectional.concatenated(ahead, behind)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var (ahead, behind) = Bidirectional.split(dy, at: forward.units)
        if forward.returnsSequences { behind = Bidirectional.reversedInTime(behind) }
        var dx = forward.backward(ahead)
        let back = Bidirectional.reversedInTime(backward.backward(behind))
        dx.storage.withUnsafeMutableBufferPointer { d in
            back.storage.withUnsafeBufferPointer { Vector.add($0.baseAddress!, into: d.baseAddress!, count: d.count) }
        }
        return dx
    }

    public func addParameterGradients(_ dy: Tensor) {
        var (ahead, behind) = Bidirectional.split(dy, at: forward.units)
        if forward.returnsSequences { behind = Bidirectional.reversedInTime(behind) }
        forward.addParameterGradients(ahead)
        backward.addParameterGradients(behind)
    }

    /// `[n, steps, f]` with its steps in the opposite order.
    static func reversedInTime(_ x: Tensor) -> Tensor {
        let (n, steps, f) = (x.batch, x.shape[1], x.shape[2])
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                for s in 0..<n {
                    for t in 0..<steps {
                        Vector.copy(src.baseAddress! + (s * steps + t) * f, into: out.baseAddress! + (s * steps + steps - 1 - t) * f, count: f)
                    }
                }
            }
        }
    }

    /// Rows of `a` then `b`, side by side along the last axis.
    static func concatenated(_ a: Tensor, _ b: Tensor) -> Tensor {
        let width = a.shape.last!, rows = a.count / width
        return Tensor(shape: a.shape.dropLast() + [2 * width]) { out in
            a.storage.withUnsafeBufferPointer { x in
                b.storage.withUnsafeBufferPointer { y in
                    for r in 0..<rows {
                        Vector.copy(x.baseAddress! + r * width, into: out.baseAddress! + 2 * r * width, count: width)
                        Vector.copy(y.baseAddress! + r * width, into: out.baseAddress! + (2 * r + 1) * width, count: width)
                    }
                }
            }
        }
    }

    /// The inverse of `concatenated`.
    static func split(_ t: Tensor, at width: Int) -> (Tensor, Tensor) {
        let rows = t.count / (2 * width), shape = t.shape.dropLast() + [width]
        var a = Tensor(zeros: Array(shape)), b = Tensor(zeros: Array(shape))
        t.storage.withUnsafeBufferPointer { src in
            a.storage.withUnsafeMutableBufferPointer { x in
                b.storage.withUnsafeMutableBufferPointer { y in
                    for r in 0..<rows {
                        Vector.copy(src.baseAddress! + 2 * r * width, into: x.baseAddress! + r * width, count: width)
                        Vector.copy(src.baseAddress! + (2 * r + 1) * width, into: y.baseAddress! + r * width, count: width)
                    }
                }
            }
        }
        return (a, b)
    }
}
