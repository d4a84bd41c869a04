"""The README's examples run as written: every `$ ` line of the Command line and Export
sections, in order, in a fresh folder beside the repository's resources, and the Python API
block. Output that does not depend on training (tables, messages, "wrote ..." lines, exit
statuses) must match what the README shows."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def _commands(section: str) -> list[tuple[str, list[str]]]:
    """(command line, the output lines shown under it) for each `$ ` line of the section's
    console blocks."""
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found and line.strip():
                found[-1][1].append(line)
    return found


def _checked(command: str, line: str) -> bool:
    """Shown output that must match exactly: not a trained number, not an elision."""
    if line == "..." or command.startswith(("nnengine train", "nnengine evaluate")):
        return line.startswith(("nnengine", "exit "))
    return not command.startswith("python -c")


def _shell(tmp_path: Path) -> dict[str, str]:
    """An environment where `nnengine` and `python` are this checkout and this Python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Scripts, not symlinks: a symlink to a venv's python outside the venv loses the venv's
    # packages (Python finds pyvenv.cfg beside the path it was started by).
    for name, args in (("nnengine", " -m nnengine"), ("python", "")):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{sys.executable}"{args} "$@"\n')
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NNENGINE_DEBUG", None)
    return env


def test_the_command_line_examples_run_as_written(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "resources").symlink_to(REPO / "resources")
    env = _shell(tmp_path)
    commands = _commands(_section("Command line")) + _commands(_section("Export"))
    assert len(commands) >= 12
    for command, shown in commands:
        if "torchrun" in command or "cnn_torch/trained.npz" in command:
            continue  # PyTorch training for minutes: tests/engine/test_pytorch_train.py
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600, check=False)
        said = (done.stdout + done.stderr).splitlines()
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command
        for line in shown:
            if _checked(command, line):
                assert line in said, f"{command}: README shows {line!r}, it said {said}"
    assert (work / "runs" / "mlp" / "run.json").is_file()
    for name in ("x.npy", "y.npy", "mlp_digits.zip", "mlp_digits.onnx", "mlp_digits.py",
                 "cnn_torch/train.py", "cnn_numpy/predict.py"):
        assert (work / name).is_file(), name


def test_the_python_api_example_runs(tmp_path):
    code = re.search(r"## Python API\n\n```python\n(.*?)```", README, re.DOTALL).group(1)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_shell(tmp_path),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "4810"


def test_help_points_only_to_what_the_repository_holds(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nnengine", "--help"], env=_shell(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0
    for section in re.findall(r"SPEC section \d", done.stdout):
        raise AssertionError(f"--help points to {section}, which is not in the repository")
    assert "README.md" in done.stdout and (REPO / "README.md").is_file()
