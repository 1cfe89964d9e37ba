"""Command line: ``python -m galaxysd {run,build,book,student,notebooks,params,simulate,fetch,checkpoint,sd15-architecture}``.

Examples
--------
Run every notebook of the demo profile, then build the book::

    python -m galaxysd book

Re-run one notebook with a new value (precedence: notebook default < profile < --set)::

    python -m galaxysd run --profile demo --only 03_generate --set 03_generate.guidance=5.0

Write the student edition (notebooks and book without the exercises' solutions)::

    python -m galaxysd student --out student

See every value a notebook would run with, and where each comes from::

    python -m galaxysd params 02_finetune --profile paper

Pack the run folder's chapters 01-03 for a workshop, and start at chapter 04 elsewhere::

    python -m galaxysd checkpoint pack --profile demo --upto 03_generate -o demo-upto-03.tar.gz
    python -m galaxysd checkpoint unpack demo-upto-03.tar.gz
    python -m galaxysd run --profile demo --only 04_embedding
"""

from __future__ import annotations

import argparse
import sys

from galaxysd.errors import GalaxySDError


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="demo", help="smoke, demo (default) or paper")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                        help="run only these notebooks (e.g. 01_data 03), in stage order")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NOTEBOOK.PARAM=VALUE", help="one-off parameter value (YAML syntax; a text parameter takes the text as typed, so mixed_precision=no is 'no')")
    parser.add_argument("--output-dir", help="where executed notebooks go (default book/notebooks)")
    parser.add_argument("--run-dir", default="", help="stage outputs (default $GALAXYSD_RUNS/<profile>)")
    parser.add_argument("--figures-dir", default="", help="figures (default figures/<profile>)")
    parser.add_argument("--data-dir", default="", help="data (default $GALAXYSD_DATA)")
    parser.add_argument("--root", help="project root holding notebooks/ (default: this checkout)")
    parser.add_argument("--profiles-dir", help="folder of your own profile YAML files "
                        "(default: the profiles shipped in galaxysd/profiles)")
    parser.add_argument("--no-progress", action="store_true", help="hide papermill's progress bar")
    parser.add_argument("--force", action="store_true",
                        help="execute every notebook, even one whose inputs have not changed since it ran")
    parser.add_argument("--exercises", action="store_true",
                        help="execute the exercises' solutions too (by default the book shows them unexecuted)")


def _profiles_dir(args):
    from pathlib import Path

    from galaxysd.parameters import PROFILES_DIR

    return Path(args.profiles_dir) if args.profiles_dir else PROFILES_DIR


def _run(args) -> None:
    from galaxysd.book import run_profile

    run_profile(args.profile, args.only, args.overrides, root=args.root, output_dir=args.output_dir,
                run_dir=args.run_dir, figures_dir=args.figures_dir, data_dir=args.data_dir,
                progress=not args.no_progress, profiles_dir=_profiles_dir(args), force=args.force,
                exercises=args.exercises)


def _build(args) -> None:
    from galaxysd.book import build_book

    index = build_book(args.root)
    print(f"[galaxysd] the book is at {index}")


def _student(args) -> None:
    from galaxysd.student import write_student_edition

    written = write_student_edition(args.out, args.root, book=not args.no_book)
    print(f"[galaxysd] student notebooks (no solutions) in {written['notebooks']}")
    if "html" in written:
        print(f"[galaxysd] the student book is at {written['html']}")


def _notebooks(args) -> None:
    from galaxysd.publish import write_paired_notebooks

    written = write_paired_notebooks(args.root, args.repository)
    print(f"[galaxysd] {len(written)} paired notebooks (for Colab and Binder) written beside their sources")


def _params(args) -> None:
    from galaxysd.parameters import describe_plan, plan_run

    (plan,) = plan_run(args.profile, [args.notebook], args.overrides, args.root,
                       profiles_dir=_profiles_dir(args))
    print(describe_plan(plan))


def _simulate(args) -> None:
    from galaxysd.gz2 import simulate_survey

    result = simulate_survey(args.out, n_galaxies=args.n_galaxies, image_size=args.image_size,
                             seed=args.seed, frame_r90=args.frame_r90)
    print(f"[galaxysd] simulated survey written to {args.out}")
    return result


def _fetch(args) -> int:
    """Check the data folder, then (unless --check) download what is missing, with progress and verification."""
    import os

    from galaxysd.errors import DataError
    from galaxysd.gz2.fetch import check_data, fetch_all

    data_dir = args.data_dir or os.environ.get("GALAXYSD_DATA", "")
    if not data_dir:
        raise DataError("name the data folder to download into: --data-dir DIR (or set GALAXYSD_DATA); "
                        "nothing is downloaded into a folder you did not name")
    check = check_data(data_dir, images=not args.no_images)
    print(check.report())
    if args.check:
        return 0 if check.complete else 2
    fetch_all(data_dir, images=not args.no_images, progress=not args.no_progress, download=True)
    print(f"[galaxysd] every file is present and verified under {check.data_dir / 'gz2'}")
    return 0


def _checkpoint(args) -> None:
    from pathlib import Path

    from galaxysd import checkpoint
    from galaxysd.paths import run_paths

    if args.action == "pack":
        run = run_paths(args.profile, args.run_dir).run
        number = args.upto.split("_", 1)[0]
        out = Path(args.output or f"{args.profile}-upto-{number}.tar.gz")
        checkpoint.pack(run, args.upto, out, args.profile)
        manifest = checkpoint.read_manifest(out)
        print(f"[galaxysd] chapters {', '.join(manifest['chapters'])} of {run}: {len(manifest['files'])} files, "
              f"{out.stat().st_size / 1e6:.1f} MB -> {out}")
        return
    profile = args.profile or checkpoint.read_manifest(args.bundle)["profile"]
    run = run_paths(profile, args.run_dir).run
    manifest = checkpoint.unpack(args.bundle, run, profile, replace=args.replace,
                                 allow_other_code=args.allow_other_code)
    following = int(manifest["chapters"][-1].split("_", 1)[0]) + 1
    print(f"[galaxysd] chapters {', '.join(manifest['chapters'])} restored into {run}; start at the next with "
          f"python -m galaxysd run --profile {profile} --only {following:02d}")
def _sd15(args) -> None:
    from galaxysd.diffusion.sd15 import write_sd15_architecture

    folder = write_sd15_architecture(args.out, small=args.small, seed=args.seed)
    print(f"[galaxysd] Stable Diffusion v1.5's architecture ({'small form' if args.small else 'full size'}, "
          f"random weights) written to {folder}; use it with --set 02_finetune.base_model={folder}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``galaxysd`` command."""
    parser = argparse.ArgumentParser(prog="galaxysd", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks of a profile")
    _add_run_arguments(run)
    build = sub.add_parser("build", help="build the book from the executed notebooks")
    build.add_argument("--root")
    book = sub.add_parser("book", help="run the notebooks, then build the book")
    _add_run_arguments(book)
    student = sub.add_parser("student", help="write the student notebooks and book: the exercises without "
                             "their solutions")
    student.add_argument("--out", default="student", help="output folder (default: student)")
    student.add_argument("--root", help="project root (default: this checkout)")
    student.add_argument("--no-book", action="store_true", help="write the notebooks only")
    paired = sub.add_parser("notebooks", help="write notebooks/NN_*.ipynb (what Colab and Binder open) and "
                            "each source's install cell")
    paired.add_argument("--root", help="project root (default: this checkout)")
    paired.add_argument("--repository", default=None,
                        help="the repository's https address the install cell installs from (default: "
                        "repository.url of _config.yml, $GALAXYSD_REPOSITORY_URL or the origin remote)")
    params = sub.add_parser("params", help="list a notebook's parameter values and where each comes from "
                            "(notebook default, profile, --set)")
    params.add_argument("notebook")
    params.add_argument("--profile", default="demo")
    params.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NOTEBOOK.PARAM=VALUE", help="one-off parameter value (YAML syntax; a text parameter takes the text as typed, so mixed_precision=no is 'no')")
    params.add_argument("--profiles-dir", help="folder of your own profile YAML files")
    params.add_argument("--root")
    simulate = sub.add_parser("simulate", help="write the simulated GZ2-like survey")
    simulate.add_argument("out", help="output folder")
    simulate.add_argument("--n-galaxies", type=int, default=5000)
    simulate.add_argument("--image-size", type=int, default=128)
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--frame-r90", type=float, default=5.0,
                          help="image width in units of the galaxy's R90 (GZ2 cutouts: 8.48)")
    fetch = sub.add_parser("fetch", help="check the real-data folder; download what is missing, verified")
    fetch.add_argument("--data-dir", default="", help="the data folder (default $GALAXYSD_DATA; one must be named)")
    fetch.add_argument("--check", action="store_true", help="only report what is present and missing")
    fetch.add_argument("--no-images", action="store_true", help="leave out the 3.3 GB image zip")
    fetch.add_argument("--no-progress", action="store_true", help="hide the download progress bars")
    ckpt = sub.add_parser("checkpoint", help="pack a run folder's chapters up to one into a bundle, or "
                          "unpack a bundle into an empty run folder (to start at a later chapter)")
    actions = ckpt.add_subparsers(dest="action", required=True)
    pack = actions.add_parser("pack", help="bundle the chapters up to --upto, with a manifest and checksums")
    pack.add_argument("--profile", default="demo", help="smoke, demo (default) or paper")
    pack.add_argument("--upto", required=True, metavar="CHAPTER", help="the last chapter packed (03_generate or 03)")
    pack.add_argument("-o", "--output", help="the bundle (default <profile>-upto-<NN>.tar.gz)")
    pack.add_argument("--run-dir", default="", help="the run folder (default $GALAXYSD_RUNS/<profile>)")
    unpack = actions.add_parser("unpack", help="restore a bundle into an empty run folder, checked")
    unpack.add_argument("bundle")
    unpack.add_argument("--profile", help="the profile to restore (default: the bundle's; must be the bundle's)")
    unpack.add_argument("--run-dir", default="", help="the run folder (default $GALAXYSD_RUNS/<profile>)")
    unpack.add_argument("--replace", action="store_true",
                        help="unpack into a run folder that is not empty: the bundle's chapters replace its own")
    unpack.add_argument("--allow-other-code", action="store_true",
                        help="accept a bundle made by other code of this galaxysd version (its stages are "
                        "loaded as if this code had made them)")
    sd15 = sub.add_parser("sd15-architecture", help="write a diffusers folder of Stable Diffusion v1.5's "
                          "architecture with random weights (a rehearsal of the paper route without the weights)")
    sd15.add_argument("--out", required=True, help="the folder to write (replaced if it exists)")
    sd15.add_argument("--small", action="store_true", help="narrow channels, same blocks and tokenizer (tests)")
    sd15.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.command in ("run", "book"):
            _run(args)
        if args.command in ("build", "book"):
            _build(args)
        if args.command == "student":
            _student(args)
        if args.command == "notebooks":
            _notebooks(args)
        if args.command == "params":
            _params(args)
        if args.command == "simulate":
            _simulate(args)
        if args.command == "fetch":
            return _fetch(args)
        if args.command == "checkpoint":
            _checkpoint(args)
        if args.command == "sd15-architecture":
            _sd15(args)
    except GalaxySDError as err:
        print(f"galaxysd: error: {err}", file=sys.stderr)
        return 2 if not err.__class__.__name__.startswith("NotebookExecution") else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
