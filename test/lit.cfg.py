# lit configuration of tern's FileCheck suites (test/dialect, test/passes, test/tools).
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "tern"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tern_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs"]

config.substitutions.append(("%tern_src_root", config.tern_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["tern-opt", "ternc", "tern-gen-checkpoint", "tern-ukernel-gen", "tern-tune"],
                                   [config.tern_tools_dir])
# Debian's python3 sees python3-numpy; a pyenv python3 earlier on PATH may not.
config.substitutions.append(("%python", "/usr/bin/python3"))
# The runtime archives ternc links models with (lib/tern/<arch>/, with their link-flags).
config.substitutions.append(("%tern_runtime_dir",
                             os.path.join(os.path.dirname(config.tern_tools_dir), "lib", "tern")))
config.substitutions.append(("%reference", os.path.join(config.tern_src_root, "test",
                                                         "reference", "bitnet_reference.py")))
