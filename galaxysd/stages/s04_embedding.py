"""Chapter 04: the SimCLR embedding f_phi as cached stages over the run folder.

=========================  ==================================================================
stage folder               holds
=========================  ==================================================================
``04_embedding/simclr``    ``model.safetensors``, ``history.csv`` (loss, top-1 per step),
                           ``checkpoints/``, ``timing.json``
``04_embedding/embed``     ``embeddings.safetensors``: ``embedding`` (N, 512) and ``objid`` of
                           every labelled real galaxy with an image, in catalogue order
``04_embedding/probe``     ``probe.csv``: linear probe per primary tag, trained vs random encoder
``04_embedding/tsne``      ``tsne.csv``: map coordinates of real and generated galaxies
=========================  ==================================================================

Chapters 05-08 read the embedding with :func:`read_embeddings` and the encoder with
:func:`load_encoder`; both name notebook ``04_embedding`` when it has not run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from galaxysd import gz2
from galaxysd.cache import atomic_write_text, run_stage, stage_timing  # noqa: F401 (the chapter reads it here)
from galaxysd.diffusion.latents import load_images
from galaxysd.errors import DataError
from galaxysd.evaluation import probe as eprobe
from galaxysd.evaluation.figures import morphology_class
from galaxysd.evaluation.simclr import WEIGHTS_NAME, SimCLR, embed, load_simclr, save_simclr
from galaxysd.evaluation.train import HISTORY_NAME, SimCLRConfig, train_simclr
from galaxysd.paths import RunPaths

STAGE = "04_embedding"
EMBEDDINGS_NAME = "embeddings.safetensors"


def real_galaxies(run_dir) -> pd.DataFrame:
    """The labelled real galaxies that have an image (``objid``, ``image_path``, ``tags``), catalogue order."""
    cat = gz2.labelled_catalog(run_dir)
    return cat.loc[(cat.image_path != "") & (cat.n_tags > 0), ["objid", "image_path", "tags"]].reset_index(drop=True)



def _timing(folder: Path, began: float, **extra) -> None:
    atomic_write_text(folder / "timing.json", json.dumps({"seconds": round(time.perf_counter() - began, 2), **extra}))


def simclr_stage(paths: RunPaths, config: SimCLRConfig, image_size: int, n_train: int = 0,
                 released_weights: str = "", progress: bool = True):
    """Train the encoder (``04_embedding/simclr``), or take released weights from a local file.

    Parameters
    ----------
    paths : RunPaths
    config : SimCLRConfig
    image_size : int
        Side in pixels the galaxies are resized to.
    n_train : int, optional
        Galaxies to train on, drawn at random (0: all with an image).
    released_weights : str, optional
        A local ``.safetensors`` embedding (:func:`galaxysd.evaluation.simclr.load_simclr`): used
        instead of training.
    progress : bool, optional

    Returns
    -------
    (galaxysd.cache.StageResult, pandas.DataFrame)
        The stage and its training history (empty for released weights).

    Examples
    --------
    >>> simclr, history = simclr_stage(paths, SimCLRConfig(epochs=2.5, batch_size=64), image_size=32)  # doctest: +SKIP
    """
    galaxies_file = Path(paths.run) / gz2.LABELS_STAGE

    def compute(out: Path) -> None:
        began = time.perf_counter()
        if released_weights:
            save_simclr(load_simclr(released_weights, config.projection_dim), out / WEIGHTS_NAME)
            pd.DataFrame(columns=["step", "epoch", "loss", "top1"]).to_csv(out / HISTORY_NAME, index=False)
            _timing(out, began, released=str(released_weights))
            return
        galaxies = real_galaxies(paths.run)
        if n_train and n_train < len(galaxies):
            galaxies = galaxies.iloc[np.sort(np.random.default_rng([config.seed, 3]).choice(len(galaxies), n_train, replace=False))]
        images = load_images(galaxies["image_path"].tolist(), image_size, progress=progress)
        history = train_simclr(images, out, config, progress=progress)
        _timing(out, began, steps=len(history), images=len(images), threads=torch.get_num_threads())

    params = {"config": asdict(config), "image_size": image_size, "n_train": n_train,
              "released_weights": str(released_weights)}
    inputs = [galaxies_file] + ([released_weights] if released_weights else [])
    result = run_stage(paths.run, f"{STAGE}/simclr", params, compute, inputs=inputs)
    return result, pd.read_csv(result.path / HISTORY_NAME)


def embed_stage(paths: RunPaths, simclr_dir: Path, image_size: int, batch_size: int = 256, progress: bool = True):
    """Embed every labelled real galaxy with an image (``04_embedding/embed``).

    Returns
    -------
    (galaxysd.cache.StageResult, pandas.DataFrame, numpy.ndarray)
        The stage, the galaxies (``objid``, ``image_path``, ``tags``) and their embeddings.

    Examples
    --------
    >>> embedded, galaxies, vectors = embed_stage(paths, simclr.path, 32)  # doctest: +SKIP
    """
    labels_dir = Path(paths.run) / gz2.LABELS_STAGE

    def compute(out: Path) -> None:
        from safetensors.numpy import save_file

        began = time.perf_counter()
        galaxies = real_galaxies(paths.run)
        model = load_simclr(simclr_dir / WEIGHTS_NAME)
        images = load_images(galaxies["image_path"].tolist(), image_size, progress=progress)
        vectors = embed(model, images, batch_size, progress=progress)
        save_file({"embedding": vectors, "objid": galaxies["objid"].to_numpy(np.int64)}, str(out / EMBEDDINGS_NAME))
        atomic_write_text(out / "meta.json", json.dumps({"image_size": image_size}))
        _timing(out, began, images=len(images))

    result = run_stage(paths.run, f"{STAGE}/embed", {"image_size": image_size}, compute,
                       inputs=[labels_dir, simclr_dir])
    galaxies, vectors, _ = embedded_galaxies(paths.run)
    return result, galaxies, vectors


def read_embeddings(run_dir) -> tuple[np.ndarray, np.ndarray]:
    """The objIDs and embeddings of the real galaxies (what chapters 05-08 read).

    Raises
    ------
    DataError
        If notebook ``04_embedding`` has not run in this run folder, or the file is malformed.

    Examples
    --------
    >>> objid, vectors = read_embeddings(paths.run)  # doctest: +SKIP
    """
    from safetensors.numpy import load_file

    path = Path(run_dir) / STAGE / "embed" / EMBEDDINGS_NAME
    if not path.is_file():
        raise DataError(f"{path} does not exist; run notebook 04_embedding first")
    data = load_file(str(path))
    if data["embedding"].ndim != 2 or len(data["embedding"]) != len(data["objid"]):
        raise DataError(f"{path}: embedding {data['embedding'].shape} does not match objid {data['objid'].shape}")
    return data["objid"], data["embedding"]


def embedded_galaxies(run_dir, n: int = 0, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The embedded real galaxies (``objid``, ``image_path``, ``tags``), their embeddings, and ``n`` of their rows.

    Parameters
    ----------
    run_dir : path-like
    n : int, optional
        Rows to draw at random (sorted); 0 or more than there are: all.
    seed : int, optional

    Raises
    ------
    DataError
        If notebook ``04_embedding`` has not run.
    """
    objid, vectors = read_embeddings(run_dir)
    galaxies = real_galaxies(run_dir).set_index("objid").loc[objid].reset_index()
    rows = np.arange(len(galaxies))
    if n and n < len(rows):
        rows = np.sort(np.random.default_rng([seed, 5]).choice(len(rows), n, replace=False))
    return galaxies, vectors, rows


def load_encoder(run_dir) -> tuple[SimCLR, int]:
    """The trained encoder of a run and the image size it embeds at.

    Raises
    ------
    DataError
        If notebook ``04_embedding`` has not run in this run folder.
    """
    folder = Path(run_dir) / STAGE
    if not (folder / "simclr" / WEIGHTS_NAME).is_file() or not (folder / "embed" / "meta.json").is_file():
        raise DataError(f"no trained embedding under {folder}; run notebook 04_embedding first")
    size = json.loads((folder / "embed" / "meta.json").read_text())["image_size"]
    return load_simclr(folder / "simclr" / WEIGHTS_NAME), int(size)


def probe_stage(paths: RunPaths, embed_dir: Path, config: SimCLRConfig, image_size: int, n_probe: int = 0,
                test_fraction: float = 0.3, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """Linear probes of every primary tag on the trained and on a randomly initialised encoder.

    The random encoder is the network training started from (same seed), so the table shows what
    the contrastive training added. Stage ``04_embedding/probe``.

    Returns
    -------
    pandas.DataFrame
        :func:`galaxysd.evaluation.probe.linear_probe`'s table (index: tag).

    Examples
    --------
    >>> table = probe_stage(paths, embedded.path, config, 32)  # doctest: +SKIP
    """
    def compute(out: Path) -> None:
        galaxies, trained, rows = embedded_galaxies(paths.run, n_probe, seed)
        torch.manual_seed(config.seed)
        random_model = SimCLR(weights=config.weights or None, projection_dim=config.projection_dim)
        images = load_images(galaxies["image_path"].iloc[rows].tolist(), image_size, progress=progress)
        untrained = embed(random_model, images, progress=progress)
        labels = eprobe.tag_matrix(galaxies["tags"].iloc[rows], gz2.PRIMARY_TAGS)
        table = eprobe.linear_probe({"trained": trained[rows], "random": untrained}, labels, test_fraction, seed)
        table.to_csv(out / "probe.csv")

    params = {"n_probe": n_probe, "test_fraction": test_fraction, "seed": seed, "image_size": image_size,
              "config": asdict(config)}
    result = run_stage(paths.run, f"{STAGE}/probe", params, compute, inputs=[embed_dir])
    return pd.read_csv(result.path / "probe.csv", keep_default_na=False,
                       na_values={c: [""] for c in ("trained", "random", "difference", "low", "high")}).set_index("tag")


def generated_table1(run_dir) -> pd.DataFrame | None:
    """The image-to-image Table 1 galaxies of ``03_generate`` (``label``, ``path``), or ``None``."""
    from galaxysd.diffusion.batch import read_generated

    folder = Path(run_dir) / "03_generate" / "img2img"
    return read_generated(folder) if (folder / "manifest.csv").is_file() else None


def tsne_stage(paths: RunPaths, embed_dir: Path, simclr_dir: Path, n_points: int = 2000, perplexity: float = 30.0,
               seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """A t-SNE map of real galaxies, with the ``03_generate`` galaxies embedded on the same map.

    Real and generated embeddings are mapped together (scikit-learn's t-SNE has no out-of-sample
    transform); the generated ones are few beside the real ones, so they hardly move the map.
    Stage ``04_embedding/tsne``; columns ``x``, ``y``, ``kind``, ``group``, ``id``.

    Examples
    --------
    >>> points = tsne_stage(paths, embedded.path, simclr.path, n_points=2000)  # doctest: +SKIP
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    generated = generated_table1(paths.run)
    gen_dir = Path(paths.run) / "03_generate" / "img2img"

    def compute(out: Path) -> None:
        galaxies, vectors, rows = embedded_galaxies(paths.run, n_points, seed)
        parts = [pd.DataFrame({"kind": "real", "group": [morphology_class(t) for t in galaxies.tags.iloc[rows]],
                               "id": galaxies.objid.iloc[rows].astype(str).to_numpy()})]
        stack = [vectors[rows]]
        if generated is not None:
            model, size = load_encoder(paths.run)
            stack.append(embed(model, load_images(generated["path"].tolist(), size, progress=False)))
            parts.append(pd.DataFrame({"kind": "generated", "group": generated["label"].to_numpy(),
                                       "id": generated["sample_id"].to_numpy()}))
        x = np.concatenate(stack)
        x = PCA(n_components=min(50, *x.shape), random_state=seed).fit_transform(x)
        xy = TSNE(perplexity=min(perplexity, (len(x) - 1) / 3), init="pca", random_state=seed).fit_transform(x)
        table = pd.concat(parts, ignore_index=True)
        table["x"], table["y"] = xy[:, 0], xy[:, 1]
        table.to_csv(out / "tsne.csv", index=False)

    inputs = [embed_dir, simclr_dir] + ([gen_dir] if generated is not None else [])
    result = run_stage(paths.run, f"{STAGE}/tsne", {"n_points": n_points, "perplexity": perplexity, "seed": seed},
                       compute, inputs=inputs)
    return pd.read_csv(result.path / "tsne.csv", dtype={"group": str, "id": str})
