"""Where bench runs write: a fresh, git-ignored folder per run, and the one explicit step that
copies a finished run over the tracked files in bench/results/ (so a run never dirties git)."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# Under .data/, which .gitignore already ignores; next to the embedded server's .data/bench/pg.
DEFAULT_RUNS = ROOT / ".data" / "bench" / "runs"
RUNS_ENV = "BENCH_RUNS_DIR"


@dataclass(frozen=True)
class RunFolder:
    """One run's folder: `<UTC timestamp>-<kind>`, with every process's output under logs/."""

    path: Path

    @property
    def kind(self) -> str:
        return self.path.name.rsplit("-", 1)[-1]

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"


def runs_root(option: str | None) -> Path:
    """The option, else BENCH_RUNS_DIR, else .data/bench/runs."""
    return Path(option or os.environ.get(RUNS_ENV) or DEFAULT_RUNS).resolve()


def new_run(root: Path, kind: str) -> RunFolder:
    """A new empty folder; a second run in the same second waits for the next one."""
    while True:
        path = root / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{kind}"
        try:
            (path / "logs").mkdir(parents=True, exist_ok=False)
            return RunFolder(path)
        except FileExistsError:
            time.sleep(1)


def newest_run(root: Path, kind: str, needs: tuple[str, ...]) -> RunFolder | None:
    """The latest run of this kind that got as far as writing every file in `needs`."""
    finished = [
        path
        for path in root.glob(f"*-{kind}")
        if path.is_dir() and all((path / name).is_file() for name in needs)
    ]
    return RunFolder(max(finished, key=lambda path: path.name)) if finished else None


def publish(copies: Mapping[Path, Path]) -> list[Path]:
    """Copy source -> tracked target, each through a git-ignored .tmp so a reader never sees
    half a file; return the targets."""
    for source, target in copies.items():
        partial = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return list(copies.values())


def shown(path: Path) -> str:
    """A path as short as it can be from where the user stands."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def log_this_process(path: Path) -> None:
    """This process's own logging (Alembic, the embedded server, warnings) into the run."""
    logging.basicConfig(
        filename=path,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
