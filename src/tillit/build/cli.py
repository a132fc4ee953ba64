"""The `tillit` command: build, run one notebook, render, generate the twin, batch runs."""
from __future__ import annotations

import argparse
import errno
import sys
import time
from pathlib import Path

import yaml

from tillit.config import ConfigError, load_run_params, repo_root

def step_line(name: str, seconds: float, status: str) -> str:
    return f"  {name:<28} {seconds:7.1f} s  {status}"


def raw_state(raw_dir: Path) -> str:
    """'empty', 'synthetic', 'real' or 'mixed': what data/raw/ holds (tillit.data.source decides,
    by the hashes in the twin's marker)."""
    from tillit.data import source

    return source.raw_state(raw_dir).kind


def ensure_raw(raw_dir: Path, progress=print) -> str:
    """Generate the synthetic twin when data/raw/ holds no export (tillit.data.synth.ensure_raw
    decides; it never writes next to a real file). Returns 'synthetic' or 'real'."""
    from tillit.data import source

    t0 = time.perf_counter()
    try:
        state = source.raw_state(raw_dir)
    except source.LegacyMarkerError:
        state = None
    if state is None or state.needs_twin:
        # Something to write, adopt or refuse: the generator decides (importing it costs 0.6 s,
        # which a build on data already in place does not pay).
        from tillit.data import synth

        state, generated = synth.ensure_raw(raw_dir)
    else:
        generated = False
    if generated:
        progress(step_line("synth (syntetisk tvilling)", time.perf_counter() - t0, "ok"))
        return "synthetic"
    progress(f"  kildedata: {'reell eksport' if state.kind == 'real' else 'syntetisk tvilling'} i {raw_dir}")
    if state.leftover_marker:
        progress(f"  merk: {source.MARKER} ligger igjen ved siden av ekte data og brukes ikke")
    return state.data_kind


def _parse_value(text: str):
    """`-p key value` values are YAML scalars, as with papermill (10 → int, true → bool)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _parameters(args) -> dict:
    """`-f file.yml` then `-p NAVN VERDI` (or `-p NAVN=VERDI`), as with papermill."""
    params: dict = {}
    if getattr(args, "file", None):
        path = Path(args.file)
        if not path.is_file():
            raise ConfigError(f"-f {args.file}: filen finnes ikke")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{args.file}: forventet nøkkel: verdi-par")
        params.update(data)
    for key, value in getattr(args, "param", None) or []:
        params[key] = _parse_value(value)
    return params


def cmd_build(args) -> int:
    from tillit.build import pipeline, publish

    root = repo_root()
    parameters = _parameters(args)
    print("tillit build" + (f" --edition {args.edition}" if args.edition else ""))
    params = publish.run_params(root, parameters)  # a bad value fails before anything runs
    out_dir = publish.book_output_dir(root, parameters)  # so does a folder the book cannot go to
    if out_dir != (root / "outputs").resolve():
        print(f"  utdata: {out_dir}")
    if args.edition:
        from tillit.stats.editions import load_editions

        eds = load_editions(root=root)
        eds.get(args.edition)  # an unknown edition fails before anything runs
        if args.edition == eds.default:  # the whole of NAV is the main book
            args.edition = None
        elif args.only:
            raise ConfigError("--only og --edition kan ikke brukes sammen: en utgave bygges alltid hel")
        elif parameters:
            raise ConfigError("-p/-f og --edition kan ikke brukes sammen: en utgave bygges med parametrene i "
                              "params/ (utgavens mappe er outputs/editions/UTGAVE/)")
    if args.edition:
        ensure_raw(params.path("raw_dir", root))
        return _build_edition(args, root)
    # The build imports the render's modules while its appendix runs (tillit.build.pipeline.preload).
    from tillit.book.render import render_modules
    from tillit.build.pipeline import preload

    preload.request(render_modules(args.renderer))
    # The data step's kernel starts now, while data/raw/ is checked (and the twin written).
    from tillit.build.pipeline.warm import start_for_build

    warm = start_for_build(root, workers=args.workers, only=args.only)
    try:
        ensure_raw(params.path("raw_dir", root))
        pipeline.build(only=args.only, force=args.force, workers=args.workers, progress=print, root=root,
                       parameters=parameters or None, warm=warm)
    finally:
        if warm is not None:
            warm.close()
    return _render(args.renderer, root, parameters)


def _build_edition(args, root: Path) -> int:
    from tillit.build import editions

    editions.prepare_data(root, print, force=args.force)
    res = editions.build_edition(args.edition, root=root, force=args.force, renderer=args.renderer,
                                 workers=args.workers, progress=print)
    print(f"Utgaven {res.title}: {editions.STATUS_TEXT[res.status].lower()}. "
          f"Boka: {editions.editions_dir(root) / res.book}")
    return 0


def cmd_editions(args) -> int:
    from tillit.build import editions

    from tillit.stats.editions import load_editions

    root = repo_root()
    print("tillit editions")
    for key in args.only or []:
        load_editions(root=root).get(key)  # an unknown edition fails before anything runs
    ensure_raw(load_run_params().path("raw_dir", root))
    summary = editions.run_editions(args.only, root=root, scheduler=args.scheduler, workers=args.workers,
                                    force=args.force, renderer=args.renderer)
    return 1 if (summary["status"] == "failed").any() else 0


def _render(renderer: str, root: Path, parameters: dict | None = None) -> int:
    from tillit.build import publish

    result = publish.render_book(root, renderer, parameters)
    print(step_line(f"render ({result.renderer})", result.seconds, render_status(result)))
    for warning in result.warnings:
        print(f"    merk: {warning}")
    if result.renderer == "quarto":
        label = f"Quarto ({result.version})" if result.version else "Quarto"
    elif renderer == "fallback":
        label = "nbconvert-reserveløsningen (valgt med --renderer fallback)"
    else:
        label = "nbconvert-reserveløsningen (Quarto finnes ikke på PATH)"
    verb = "er uendret, sist laget" if result.status == "cached" else "er laget"
    print(f"Boka {verb} med {label}: {result.index_path}")
    return 0


def render_status(result) -> str:
    """What the render did: 'uendret' (nothing it reads changed, nothing rendered), or 'ok'
    with how many pages were written and how many were kept from the last book."""
    if result.status == "cached":
        return "uendret (ingenting boka bygger på er endret)"
    if result.rendered or result.reused:
        return f"ok ({len(result.rendered)} sider laget, {len(result.reused)} uendret gjenbrukt)"
    return "ok"


def cmd_render(args) -> int:
    from tillit.config import SHARED_KEYS

    parameters = _parameters(args)
    unknown = sorted(set(parameters) - set(SHARED_KEYS))
    if unknown:
        raise ConfigError(f"tillit render: ukjent parameter {', '.join(unknown)}; render tar bare de felles "
                          f"parameterne ({', '.join(SHARED_KEYS)}), f.eks. -p output_dir MAPPE")
    return _render(args.renderer, repo_root(), parameters)


def cmd_run(args) -> int:
    from tillit.build import pipeline

    params = _parameters(args)
    name = Path(args.notebook).stem
    if args.output:  # a side run to a file of the user's choosing: no lock, no manifest
        result = pipeline.run_notebook(name, params or None, output_path=Path(args.output))
        print(step_line(name, result.seconds, result.status))
        print(f"  sidekjøring til {args.output}: ikke med i boka, og ikke med i revisjonen av skjulte tall "
              "(den går over det boka publiserer)")
    else:
        # Prints the step's line and the disclosure audit's, as a build does.
        result = pipeline.run_step(name, params or None, progress=print)
    return 0 if result.status != "failed" else 1


def cmd_synth(args) -> int:
    from tillit.data import synth

    root = repo_root()
    raw_dir = Path(args.raw_dir) if args.raw_dir else load_run_params().path("raw_dir", root)
    t0 = time.perf_counter()
    seed = synth.default_seed() if args.seed is None else args.seed
    # write_raw refuses (one line) a folder holding any file the twin did not write.
    paths = synth.write_raw(raw_dir, seed, n_respondents=args.n, formats=tuple(args.formats.split(",")))
    print(step_line("synth", time.perf_counter() - t0, "ok"))
    for p in paths:
        print(f"    {p}")
    return 0


def cmd_batch(args) -> int:
    from tillit.build import batch

    out = Path(args.out) if args.out else load_run_params().path("output_dir", repo_root()) / "batch" / Path(args.spec).stem
    summary = batch.run_batch(Path(args.spec), out, scheduler=args.scheduler, workers=args.workers)
    failed = int((summary["status"] == "failed").sum())
    print(f"{len(summary)} kjøringer, {failed} feilet. Oversikt: {out / 'index.html'}")
    return 1 if failed else 0


def cmd_ledger(args) -> int:
    from tillit.stats import ledger

    params = load_run_params()
    table = ledger.compute_ledger(params.path("data_dir", repo_root()))
    print(table.to_string(index=False))
    ledger.check_ledger(table, mode=args.mode or params.targets)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tillit", description="Tillitsreformen i NAV – Delrapport 1 som kompendium")
    sub = parser.add_subparsers(dest="command", required=True)
    renderers = ["auto", "quarto", "fallback"]

    p = sub.add_parser("build", help="kjør alle notatbøkene i rekkefølge og lag boka")
    p.add_argument("--force", action="store_true", help="kjør alt på nytt, uten hurtiglager")
    p.add_argument("--workers", type=int, default=None, help="kapitler som kjører samtidig")
    p.add_argument("--only", nargs="+", default=None, help="bare disse notatbøkene")
    p.add_argument("--renderer", choices=renderers, default="auto")
    p.add_argument("--edition", default=None, metavar="UTGAVE",
                   help="bygg én utgave fra params/editions.yml til outputs/editions/UTGAVE/")
    _param_options(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("editions", help="bygg alle utgavene i params/editions.yml på Dask")
    p.add_argument("--only", nargs="+", default=None, metavar="UTGAVE", help="bare disse utgavene")
    p.add_argument("--scheduler", default=None, help="adressen til en eksisterende Dask-klynge")
    p.add_argument("--workers", type=int, default=None, help="Dask-arbeidere i den lokale klyngen")
    p.add_argument("--force", action="store_true", help="kjør alt på nytt, uten hurtiglager")
    p.add_argument("--renderer", choices=renderers, default="auto")
    p.set_defaults(func=cmd_editions)

    p = sub.add_parser("run", help="kjør én notatbok med papermill")
    p.add_argument("notebook")
    _param_options(p)
    p.add_argument("-o", "--output", help="hvor den kjørte notatboken skrives")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("render", help="lag boka av de kjørte notatbøkene")
    p.add_argument("--renderer", choices=renderers, default="auto")
    _param_options(p, "felles parameter, f.eks. -p output_dir MAPPE (boka lages i MAPPE/book)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("synth", help="skriv den syntetiske tvillingen til data/raw/")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--n", type=int, default=3660, help="antall respondenter etter rensing")
    p.add_argument("--formats", default="csv", help="csv,xlsx,sav")
    p.add_argument("--raw-dir", default=None)
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("batch", help="kjør notatbøker over et parameternett på Dask")
    p.add_argument("spec", help="YAML med notatbøker og parametere (se params/batch_example.yml)")
    p.add_argument("--out", default=None)
    p.add_argument("--scheduler", default=None, help="adressen til en eksisterende Dask-klynge")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("ledger", help="skriv ut reproduksjonsregnskapet")
    p.add_argument("--mode", choices=["error", "warn"], default=None)
    p.set_defaults(func=cmd_ledger)
    return parser


def _param_options(p, help_p: str = "parameter til notatbøkene (som papermill -p); også NAVN=VERDI") -> None:
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAVN", "VERDI"), help=help_p)
    p.add_argument("-f", "--file", help="YAML-fil med parametere (som papermill -f)")


def split_assignments(argv: list[str]) -> list[str]:
    """`-p NAVN=VERDI` → `-p NAVN VERDI`, so both spellings work."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if token in ("-p", "--param") and nxt is not None and "=" in nxt:
            key, _, value = nxt.partition("=")
            if key.isidentifier():
                out += [token, key, value]
                i += 2
                continue
        out.append(token)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    # A no-op `tillit build` is answered from .tillit/noop.json before anything heavy is imported
    # (tillit.build.noop, H14b); every other command (a build with -p/-f too) goes to _main.
    from tillit.build import noop

    return noop.run(argv, _main)


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(split_assignments(sys.argv[1:] if argv is None else list(argv)))
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("Avbrutt.", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear message, not a traceback, for the errors we expect
        from tillit.stats.disclosure import DisclosureError
        from tillit.stats.ledger import LedgerError
        from tillit.stats.ordinal import OrdinalError
        from tillit.build.pipeline import PipelineError
        from tillit.data.schemas import DataError

        from tillit.stats.audit import AuditError

        expected = (ConfigError, FileNotFoundError, DataError, DisclosureError, PipelineError, LedgerError,
                    OrdinalError, AuditError)
        if isinstance(exc, expected):
            print(f"Feil: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
            print(f"Feil: {_write_error(exc)}", file=sys.stderr)
            return 2
        raise


# What a file system refuses, and what to do about it (one line each).
_WRITE_ERRORS = {
    errno.EACCES: "ingen skrivetilgang; gi skrivetilgang til mappen eller velg en annen output_dir",
    errno.EPERM: "ingen skrivetilgang; gi skrivetilgang til mappen eller velg en annen output_dir",
    errno.EROFS: "filsystemet er skrivebeskyttet; velg en output_dir på et skrivbart filsystem",
    errno.ENOSPC: "disken er full; frigjør plass og bygg på nytt (det som var skrevet fra før, er urørt)",
    errno.EDQUOT: "diskkvoten er brukt opp; frigjør plass og bygg på nytt",
    errno.EXDEV: "kan ikke flytte filer mellom to filsystemer; legg output_dir og data_dir på samme filsystem",
}


def _write_error(exc: OSError) -> str:
    where = exc.filename or "?"
    try:
        where = Path(where).resolve().relative_to(repo_root()).as_posix()
    except (ValueError, ConfigError, OSError):
        pass
    return f"kan ikke skrive {where}: {_WRITE_ERRORS[exc.errno]}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
