import LoomCore
import LoomEngine
import LoomONNX

extension Evaluator {
    /// `export M PATH`: the model as a standard ONNX file, written as `save`
    /// writes (a temporary renamed into place), with a note for each weight
    /// the file holds as its dense equivalent.
    func export(_ a: Request<ExportRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        let path = a.path, pathRange = a.range(of: \.path)
        guard path.lowercased().hasSuffix(".onnx") else {
            throw LoomError(.value, "`export` writes ONNX files, named *.onnx, not \(path): write `export \(a.model.text) "
                            + "\"\(a.model.text).onnx\"` (`save` writes Loom's own safetensors)", at: pathRange)
        }
        try checkWritable("the ONNX file", at: path, range: pathRange)
        let onnx: ONNXExport
        do { onnx = try ONNXExport(state.model) } catch { throw LoomError(.value, error.description, at: a.model.expr.range) }
        do { try Ranks.current.writeOnRankZero(onnx.bytes, to: path) } catch {
            throw LoomError(.io, "cannot write \(error.description)", at: pathRange)
        }
        let lines = ["Exported \(a.model.text) to \(path) (ONNX, opset \(ONNXExport.opset))"] + onnx.notes.map { "note: \($0)" }
        show(MimeBundle(text: lines.joined(separator: "\n")))
    }
}
