import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # this checkout, whatever directory a test runs from


def reason(
    *args: str, cwd: Path | None = None, check: bool = False, path: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess:
    """Run the `reason` CLI in a subprocess, as a user would, on this checkout's code (its root
    first on PYTHONPATH, then `path`, e.g. a directory holding a user's task module)."""
    pythonpath = os.pathsep.join([str(ROOT), *map(str, path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {**os.environ, "PYTHONPATH": pythonpath}
    done = subprocess.run([sys.executable, "-m", "reasoning.cli", *args], capture_output=True, text=True, cwd=cwd, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"reason {' '.join(args)} failed:\n{done.stderr}")
    return done


def reason_here(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run `reason` in this process through its console entry point: the same one-line errors and
    exit codes as `reason()`, without a fresh interpreter's seconds of imports. For tests of what a
    command does; what only a real process shows (kill -9, ctrl-c, a user's PYTHONPATH, what a
    crash prints) stays with `reason()`. An uncaught exception here fails the test, where a real
    process would print a traceback."""
    from reasoning.cli.app import main

    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ["reason", *args]
    try:
        with contextlib.chdir(cwd or os.getcwd()), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        sys.argv = argv
    if check and code != 0:
        raise AssertionError(f"reason {' '.join(args)} failed:\n{err.getvalue()}")
    return subprocess.CompletedProcess(["reason", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny model really trained (pretrain, sft, rm, rl: a few real steps each) through the
    CLI; what the run printed is kept in train.log beside the stages."""
    out = tmp_path_factory.mktemp("tiny")
    done = reason("train", "all", "--quick", "--out", str(out), check=True)
    (out / "train.log").write_text(done.stdout)
    return out / "rl"


@pytest.fixture(scope="session")
def bpe_model(tmp_path_factory) -> Path:
    """Someone else's model: a random-weight Llama with a trained 8k BPE tokenizer (with BOS)."""
    from training.random_model import RandomModelConfig, build

    return build(tmp_path_factory.mktemp("bpe8k"), RandomModelConfig(kind="bpe", vocab_size=8192))


@pytest.fixture(scope="session")
def byte_model(tmp_path_factory) -> Path:
    """A random-weight Llama with a byte-level BPE tokenizer and no BOS token."""
    from training.random_model import RandomModelConfig, build

    return build(tmp_path_factory.mktemp("bytes"), RandomModelConfig(kind="byte", vocab_size=2048, bos=False))


@pytest.fixture(scope="session")
def random_bpe_model(tmp_path_factory) -> Path:
    """A random-weight Llama with a Metaspace BPE vocabulary (merged tokens, `▁` space marker)."""
    from training.random_model import RandomModelConfig, build

    return build(tmp_path_factory.mktemp("bpe"), RandomModelConfig(kind="bpe", vocab_size=4096))


@pytest.fixture(scope="session")
def random_byte_model(tmp_path_factory) -> Path:
    """A random-weight Llama with a GPT-2 byte-level BPE vocabulary (`Ġ` bytes, partial characters)."""
    from training.random_model import RandomModelConfig, build

    return build(tmp_path_factory.mktemp("byte"), RandomModelConfig(kind="byte", vocab_size=4096))
