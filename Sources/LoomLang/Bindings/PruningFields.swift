import LoomCore
import LoomEngine
import LoomRender

/// The fields pruning adds to `train` and `rewind`: a gradual pruning
/// schedule and an epoch of the model's history.
extension Field {
    /// `to P% [from E1] [to E2] [every N] [global]`, or nothing.
    static func pruneSchedule(_ name: String, _ path: WritableKeyPath<Spec, GradualPruneRequest?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .pruneSchedule, doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.pruneSchedule(name) : nil }, text: \.text,
                  draw: { random in
                      let from = 1 + random.below(3)
                      return GradualPruneRequest(target: Double(1 + random.below(99)) / 100, from: random.below(2) == 0 ? nil : from,
                                                 to: random.below(2) == 0 ? nil : from + random.below(3),
                                                 every: random.below(2) == 0 ? nil : 1 + random.below(50), global: random.below(2) == 0)
                  })
    }

    /// `epoch E` or `epochs E1 E2 …`, or nothing: epochs of the model (its
    /// first is 1), each once, as written (so an error can point at one).
    static func epochs(_ name: String, _ path: WritableKeyPath<Spec, [Int]?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .epochs, in: 1...1_000_000_000, doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.epochs(name) : nil },
                  text: { $0.count == 1 ? "epoch \($0[0])" : "epochs " + $0.map(String.init).joined(separator: " ") },
                  draw: { random in Array(Set((0...random.below(3)).map { _ in 1 + random.below(5) })).sorted() })
    }

    /// `epoch E`, or nothing: an epoch of the model (its first is 1).
    static func epoch(_ name: String, _ path: WritableKeyPath<Spec, Int?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .epoch, in: 1...1_000_000_000, doc), path,
                  read: { a throws(LoomError) in try a.optionalInteger(name) }, text: { "epoch \($0)" },
                  draw: { 1 + $0.below(5) })
    }

    /// `every N`, or nothing: how often, in epochs.
    static func every(_ name: String, _ path: WritableKeyPath<Spec, Int?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .every, in: 1...1_000_000_000, doc), path,
                  read: { a throws(LoomError) in try a.optionalInteger(name) }, text: { "every \($0)" },
                  draw: { 1 + $0.below(5) })
    }
}

extension GradualPruneRequest {
    /// As a line writes it after `prune`: `to 90% from 2 to 8 every 50 global`.
    var text: String {
        var words = ["to", Field<Int>.percentText(target)]
        if let from { words += ["from", String(from)] }
        if let to { words += ["to", String(to)] }
        if let every { words += ["every", String(every)] }
        if global { words.append("global") }
        return words.joined(separator: " ")
    }
}

extension Arguments {
    /// The epochs given for `name`: whole numbers from 1, each once, in the order written.
    func epochs(_ name: String) throws(LoomError) -> [Int] {
        var epochs: [Int] = []
        for item in items(name) {
            let v = try evaluator.evaluate(item)
            guard let x = v.numeric, x == x.rounded(), x >= 1, x <= 1e9 else {
                throw LoomError(.value, "\(name) takes epochs, whole numbers from 1, not \(v.display)", at: item.range)
            }
            guard !epochs.contains(Int(x)) else {
                throw LoomError(.value, "\(name) names epoch \(Int(x)) twice", at: item.range)
            }
            epochs.append(Int(x))
        }
        return epochs
    }

    /// A gradual pruning schedule: a share from 0% to below 100%, whole
    /// epochs from 1 with `from` ≤ `to`, and whole steps from 1 for `every`.
    func pruneSchedule(_ name: String) throws(LoomError) -> GradualPruneRequest {
        let items = self.items(name)
        guard let first = items.first else { throw LoomError(.syntax, "`\(signature.title)` needs \(name) to P%", at: range) }
        guard let share = try evaluator.evaluate(first).numeric, share >= 0, share < 1 else {
            throw LoomError(.value, "prune to takes a share from 0% to below 100%, like 90%", at: first.range)
        }
        var request = GradualPruneRequest(target: share)
        for item in items.dropFirst() {
            guard case .column(let key, let value) = item.kind, let word = key.name?.first else { continue }
            if word == "global" { request.global = true; continue }
            let v = try evaluator.evaluate(value)
            guard let x = v.numeric, x == x.rounded(), x >= 1, x <= 1e9 else {
                throw LoomError(.value, "\(word) takes a whole number from 1, not \(v.precise)", at: value.range)
            }
            switch word {
            case "from": request.from = Int(x)
            case "to": request.to = Int(x)
            default: request.every = Int(x)
            }
        }
        if let from = request.from, let to = request.to, to < from {
            throw LoomError(.value, "pruning ends at epoch \(to), before it starts at epoch \(from)", at: range(of: name))
        }
        return request
    }
}
