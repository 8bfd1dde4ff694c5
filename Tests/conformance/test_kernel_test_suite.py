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
