"""The official jupyter_kernel_test suite, with Loom samples for every test."""

import jupyter_kernel_test as jkt


class LoomKernelTests(jkt.KernelTests):
    kernel_name = "loom"
    language_name = "loom"
    file_extension = ".loom"

    code_hello_world = 'print "hello, world"'
    code_stderr = 'warn "something is off"'

    completion_samples = [
        {"text": "pri", "matches": {"print"}},
        {"text": "set pl", "matches": {"plots"}},
        {"text": "set plots s", "matches": {"svg"}},
        {"text": "model m {\n  conv", "matches": {"conv1d", "conv2d"}},
        {"text": "train m on d opt", "matches": {"optimizer"}},
    ]

    complete_code_samples = ["epochs = 5", 'print "hi"', "model m {\n  input 4\n  dense 2\n}", "help"]
    incomplete_code_samples = ["model m {", "model m {\n  input 28x28x1\n  dense 10", "epochs = 3 +"]
    invalid_code_samples = ["}", 'print "unterminated', "epochs = = 3", "conv2d 32 3x3x"]

    code_generate_error = "trian cnn on digits"

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "rate = 0.5\nrate * 3", "result": "1.5"},
        {"code": "10% * 2", "result": "0.2"},
    ]

    code_display_data = [
        {"code": "help", "mime": "text/html"},
        {"code": "help train", "mime": "text/plain"},
        {"code": "x = 1\nlist", "mime": "text/html"},
    ]

    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "conv2d"
    code_page_something = "?conv2d"
    code_clear_output = "clear"


def test_loom_install_writes_what_the_kernelspec_folder_holds(tmp_path):
    """kernelspec/ is what `loom install` writes, with the binary's path for `loom`; `--uninstall` removes it."""
    import json
    import subprocess
    from pathlib import Path
    from conftest import LOOM, ROOT
    folder = ROOT / "kernelspec"
    template = tmp_path / "template"
    subprocess.run([LOOM, "install", "--template", str(template)], check=True, capture_output=True)
    assert sorted(p.name for p in template.iterdir()) == sorted(p.name for p in folder.iterdir())
    for p in folder.iterdir():
        assert (template / p.name).read_bytes() == p.read_bytes(), f"kernelspec/{p.name} is stale: run `make kernelspec`"
    subprocess.run([LOOM, "install", "--prefix", str(tmp_path)], check=True, capture_output=True)
    installed = tmp_path / "share" / "jupyter" / "kernels" / "loom"
    spec, kept = json.loads((installed / "kernel.json").read_text()), json.loads((folder / "kernel.json").read_text())
    assert Path(spec["argv"][0]).is_absolute() and spec["argv"][1:] == kept["argv"][1:]
    assert {k: v for k, v in spec.items() if k not in ("argv", "env")} == {k: v for k, v in kept.items() if k != "argv"}
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (installed / logo).read_bytes() == (folder / logo).read_bytes()
    subprocess.run([LOOM, "install", "--uninstall", "--prefix", str(tmp_path)], check=True, capture_output=True)
    assert not installed.exists()
