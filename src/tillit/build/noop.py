"""The no-op `tillit build`: "nothing changed since the last build" decided from file metadata
alone, so a new process answers in a fraction of a second (docs/pipeline.md, "No-op fast path").

After a successful plain `tillit build` (no --only, --force or --edition) a stamp is written to
``.tillit/noop.json``: one digest over the (path, size, mtime, ctime, inode) of every file the
build reads or wrote – notebooks/, params/, the raw and processed data, the output folder with
the manifest and the book, the tillit package with its templates – plus the interpreter, the
package folders on sys.path (installing or upgrading a package changes them), the quarto on PATH
and the renderer asked for. The next `tillit build` with the same options stats the same files;
if the digest is equal it prints the last build's steps as cached and stops, without importing
the pipeline. Anything else – a changed, added or removed file, another environment, another
renderer – runs the ordinary build, whose content-keyed cache then decides what to re-run.

A stamp is only written when nothing the build reads changed while it ran (the input files are
statted before and after), and any ordinary build removes the old stamp before it starts, so an
interrupted or failed build never leaves a stamp behind. ctime cannot be set back by a program
(touch, an editor, git), so a file rewritten with its old mtime and size still counts as changed.

Standard library only: this runs before anything else in `tillit`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

STAMP = Path(".tillit") / "noop.json"
VERSION = 1
# Written while a build runs or by the lock itself; never what a build reads.
_SKIP_NAMES = {"__pycache__", ".staging", ".ipynb_checkpoints"}
_SKIP_SUFFIXES = (".pyc", ".lock")
STEP_RE = re.compile(r"^  (\S+)\s+\d+\.\d s  (ok|cached)\b")


def _walk(directory: str, lines: list[str]) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        lines.append(f"{directory}\0-")
        return
    except NotADirectoryError:
        entries = []
    for entry in entries:
        name = entry.name
        if name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES) or name.startswith((".book-", ".tmp")):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, lines)
            continue
        try:
            st = entry.stat()
        except OSError:
            continue
        lines.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")


def _stat_line(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}\0-"
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"


def _package_dir() -> str:
    return str(Path(__file__).resolve().parents[1])


def environment(renderer: str) -> list[str]:
    """What decides the result besides files in the compendium: interpreter, installed packages
    (their folders' metadata), the renderer asked for and the quarto that `auto` would find."""
    quarto = shutil.which("quarto") if renderer in ("auto", "quarto") else None
    lines = [f"python\0{sys.executable}\0{sys.version}", f"renderer\0{renderer}", f"quarto\0{quarto}"]
    if quarto:
        lines.append(_stat_line(os.path.realpath(quarto)))
    lines += [_stat_line(p) for p in sys.path if p and os.path.isdir(p)]
    for key in ("TILLIT_ROOT", "PATH", "PYTHONPATH", "CI"):
        lines.append(f"env\0{key}\0{os.environ.get(key, '')}")
    return lines


def snapshot(inputs: list[str], outputs: list[str] = (), renderer: str = "auto") -> str:
    """One digest over the environment and every file under `inputs` and `outputs`."""
    lines = environment(renderer)
    for directory in (*inputs, *outputs):
        _walk(directory, lines)
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


# -- the command line --------------------------------------------------------------------------
def plain_build(argv: list[str]) -> tuple[str, list[str]] | None:
    """(renderer, argv) if `argv` is a `tillit build` the stamp may answer, else None: --only,
    --force and --edition always run the ordinary build; --workers changes no result."""
    if not argv or argv[0] != "build":
        return None
    renderer, rest = "auto", list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--renderer=") or arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        elif arg in ("--renderer", "--workers") and rest:
            value = rest.pop(0)
        else:
            return None
        if arg.startswith("--renderer"):
            if value not in ("auto", "quarto", "fallback"):
                return None
            renderer = value
    return renderer, list(argv)


def _root() -> Path | None:
    """The compendium root by tillit.config.repo_root's rule ($TILLIT_ROOT, else the nearest parent
    holding params/pipeline.yml, else the source checkout), without importing tillit.config
    (pydantic, yaml: most of a no-op's time). None when there is none: the ordinary command says why."""
    env = os.environ.get("TILLIT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[3]):
        if (candidate / "params" / "pipeline.yml").is_file():
            return candidate
    return None


def _read(root: Path) -> dict | None:
    try:
        data = json.loads((root / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def try_fast(argv: list[str]) -> bool:
    """Print the last build's transcript and return True when nothing has changed since it."""
    plain = plain_build(argv)
    root = _root() if plain else None
    stamp = _read(root) if root else None
    if not stamp or stamp.get("root") != str(root) or stamp.get("renderer") != plain[0]:
        return False
    if snapshot(stamp["inputs"], stamp["outputs"], plain[0]) != stamp["digest"]:
        return False
    print("\n".join(stamp["transcript"]), flush=True)
    return True


class _Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream, self.parts = stream, []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8")


def no_op_transcript(printed: str, finished: str, raw_dir: str) -> list[str]:
    """What a no-op build prints, from what the build that wrote the stamp printed: every step
    cached, no audit line, no step warnings; the source line and the book's lines kept."""
    out: list[str] = []
    in_step = False
    for line in printed.splitlines():
        match = STEP_RE.match(line)
        if line.startswith("  synth (syntetisk tvilling)"):
            # The twin was generated; a build now finds it (cli.ensure_raw's wording).
            out.append(f"  kildedata: syntetisk tvilling i {raw_dir}")
            continue
        if line.startswith("  revisjon ("):
            in_step = True
            continue
        if match and not line.startswith("  render ("):
            out.append(f"  {match.group(1):<28} {0.0:7.1f} s  cached")
            in_step = True
            continue
        if line.startswith("    merk:") and in_step:
            continue  # a step's warnings belong to the run that printed them
        in_step = False
        if line.startswith("  render ("):
            line = re.sub(r"\d+\.\d s  ok\b.*$", f"{0.0:.1f} s  cached", line)
        out.append(line)
    out.insert(1, f"  uendret siden byggingen {finished}: ingen fil den leste eller skrev, er endret")
    return out


def main() -> int:
    """The `tillit` console script: the fast path first, tillit.build.cli only when it is needed."""
    def ordinary(argv: list[str]) -> int:
        from tillit.build import cli

        return cli._main(argv)

    return run(None, ordinary)


def run(argv: list[str] | None, build) -> int:
    """`tillit` with the fast path in front of `build` (the ordinary command line)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if try_fast(argv):
        return 0
    plain = plain_build(argv)
    root = _root() if plain else None
    if root is None:
        return build(argv)
    try:
        (root / STAMP).unlink(missing_ok=True)
        dirs = _dirs(root)
    except (OSError, ValueError):  # bad params (ConfigError) or a read-only root: the build says why
        return build(argv)
    before = snapshot(dirs["inputs"], (), plain[0])
    raw_before = snapshot(dirs["raw"], (), plain[0])
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        code = build(argv)
    finally:
        sys.stdout = tee.stream
    if code == 0:
        try:
            _write_stamp(root, dirs, (before, raw_before), plain[0], "".join(tee.parts))
        except (OSError, ValueError):  # no stamp, no fast path next time; the build itself succeeded
            pass
    return code


def _dirs(root: Path) -> dict[str, list[str]]:
    """The folders a build reads (inputs) and writes (outputs), absolute, from the parameters."""
    from tillit.config import load_run_params

    params = load_run_params()
    raw, data, out = (str(params.path(k, root)) for k in ("raw_dir", "data_dir", "output_dir"))
    inputs = [str(root / "notebooks"), str(root / "params"), _package_dir()]
    return {"inputs": inputs, "raw": [raw], "outputs": [data, out]}


def _write_stamp(root: Path, dirs: dict, before: tuple[str, str], renderer: str, printed: str) -> None:
    """The stamp, if the inputs did not change while the build ran and the build is complete.
    The raw folder may have changed only by the build itself writing the synthetic twin."""
    if snapshot(dirs["inputs"], (), renderer) != before[0] or not _complete(dirs["outputs"][1]):
        return
    if snapshot(dirs["raw"], (), renderer) != before[1] and not _only_twin(dirs["raw"][0]):
        return
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    inputs = dirs["inputs"] + dirs["raw"]
    stamp = {"version": VERSION, "root": str(root), "renderer": renderer, "finished": finished,
             "inputs": inputs, "outputs": dirs["outputs"],
             "transcript": no_op_transcript(printed, finished, dirs["raw"][0])}
    stamp["digest"] = snapshot(inputs, dirs["outputs"], renderer)
    path = root / STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(stamp, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _only_twin(raw_dir: str) -> bool:
    """data/raw holds the synthetic twin and nothing else (its marker's hashes say so)."""
    from tillit.data import source

    return source.raw_state(Path(raw_dir)).kind == "synthetic"


def _complete(out_dir: str) -> bool:
    """The manifest says the build finished ok with every step ok or cached, and the book is there."""
    try:
        manifest = json.loads(Path(out_dir, "manifest.json").read_text(encoding="utf-8"))
        record = json.loads(Path(out_dir, "book", ".render.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    steps = manifest.get("steps") or {}
    return (manifest.get("build", {}).get("status") == "ok" and bool(steps)
            and all(s.get("status") in ("ok", "cached") for s in steps.values())
            and all(Path(out_dir, "book", p).is_file() for p in record.get("pages", [])))
