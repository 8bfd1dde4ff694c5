"""Writes event.proto, summary.proto and histogram.proto as .proto text from
the descriptors the tensorboard package ships (its wheel has no .proto files).
summary.proto is trimmed: Summary.Value's `tensor` field (a TensorProto, which
would bring tensor.proto, tensor_shape.proto, types.proto, resource_handle.proto
and full_type.proto) is left out and its number reserved."""
import sys, os
from tensorboard.compat.proto import event_pb2, summary_pb2, histogram_pb2
from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto
TYPES = {F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float", F.TYPE_INT64: "int64", F.TYPE_UINT64: "uint64",
         F.TYPE_INT32: "int32", F.TYPE_FIXED64: "fixed64", F.TYPE_FIXED32: "fixed32", F.TYPE_BOOL: "bool",
         F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "uint32", F.TYPE_SFIXED32: "sfixed32",
         F.TYPE_SFIXED64: "sfixed64", F.TYPE_SINT32: "sint32", F.TYPE_SINT64: "sint64"}
DROP = {("tensorboard.Summary.Value", "tensor")}
DROP_IMPORTS = {"tensorboard/compat/proto/tensor.proto"}

def type_name(f, package):
    if f.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
        name = f.type_name.lstrip(".")
        return name[len(package) + 1:] if name.startswith(package + ".") else name
    return TYPES[f.type]

def options(f):
    o = []
    if f.options.HasField("deprecated"): o.append(f"deprecated = {str(f.options.deprecated).lower()}")
    if f.options.HasField("packed"): o.append(f"packed = {str(f.options.packed).lower()}")
    return f" [{', '.join(o)}]" if o else ""

def enum(e, ind):
    out = [f"{ind}enum {e.name} {{"]
    for v in e.value:
        out.append(f"{ind}  {v.name} = {v.number}{' [deprecated = true]' if v.options.deprecated else ''};")
    return out + [f"{ind}}}"]

def message(m, ind, package, scope):
    full = f"{scope}.{m.name}"
    out = [f"{ind}message {m.name} {{"]
    for e in m.enum_type: out += enum(e, ind + "  ")
    for n in m.nested_type: out += message(n, ind + "  ", package, full)
    dropped = [f.number for f in m.field if (full, f.name) in DROP]
    fields = [f for f in m.field if (full, f.name) not in DROP]
    real_oneofs = [i for i, o in enumerate(m.oneof_decl)
                   if any(f.HasField("oneof_index") and f.oneof_index == i and not f.proto3_optional for f in m.field)]
    done = set()
    def field(f, pad):
        label = "repeated " if f.label == F.LABEL_REPEATED else ("optional " if f.proto3_optional else "")
        return f"{pad}{label}{type_name(f, package)} {f.name} = {f.number}{options(f)};"
    for f in fields:
        if f.HasField("oneof_index") and f.oneof_index in real_oneofs:
            i = f.oneof_index
            if i in done: continue
            done.add(i)
            out.append(f"{ind}  oneof {m.oneof_decl[i].name} {{")
            out += [field(g, ind + "    ") for g in fields if g.HasField("oneof_index") and g.oneof_index == i]
            out.append(f"{ind}  }}")
        else:
            out.append(field(f, ind + "  "))
    reserved = [r.start if r.end == r.start + 1 else f"{r.start} to {r.end - 1}" for r in m.reserved_range] + dropped
    if reserved: out.append(f"{ind}  reserved {', '.join(map(str, reserved))};")
    if m.reserved_name: out.append(f"{ind}  reserved {', '.join(repr(n).replace(chr(39), chr(34)) for n in m.reserved_name)};")
    return out + [f"{ind}}}"]

def render(mod):
    fd = d.FileDescriptorProto()
    mod.DESCRIPTOR.CopyToProto(fd)
    out = ["// Rebuilt from the descriptor in the tensorboard 2.21.0 package (" + fd.name + ");",
           "// Apache-2.0, see LICENSE beside this file. Comments are not kept in descriptors.", "",
           f'syntax = "{fd.syntax or "proto2"}";', "", f"package {fd.package};", ""]
    for dep in fd.dependency:
        if dep not in DROP_IMPORTS: out.append(f'import "{os.path.basename(dep)}";')
    if fd.dependency: out.append("")
    o = fd.options
    for key in ("cc_enable_arenas", "java_outer_classname", "java_multiple_files", "java_package", "go_package"):
        if o.HasField(key):
            v = getattr(o, key)
            out.append(f"option {key} = {str(v).lower() if isinstance(v, bool) else chr(34) + v + chr(34)};")
    out.append("")
    for e in fd.enum_type: out += enum(e, "") + [""]
    for m in fd.message_type: out += message(m, "", fd.package, fd.package) + [""]
    return os.path.basename(fd.name), "\n".join(out).rstrip() + "\n"

target = sys.argv[1]
for mod in (event_pb2, summary_pb2, histogram_pb2):
    name, text = render(mod)
    open(os.path.join(target, name), "w").write(text)
