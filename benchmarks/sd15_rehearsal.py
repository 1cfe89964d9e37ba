"""Seconds and peak memory of the paper route's steps on Stable Diffusion v1.5's real architecture, on a CPU.

The model is :mod:`galaxysd.diffusion.sd15`'s: SD v1.5's exact architecture (UNet 859.5 M parameters,
the SD VAE, CLIP ViT-L/14) with random weights, so the arithmetic and the memory are the real ones
without the download. Each piece runs in a process of its own, so its peak resident memory
(``resource.getrusage(...).ru_maxrss``) is its own:

- **latent**: one 424 px image through the VAE encoder into its 4x53x53 latent distribution (the
  latent cache, ``galaxysd.diffusion.latents.cache_latents``);
- **train**: one fine-tuning step of UNet and text encoder together, batch 1, gradient checkpointing on
  both, channels-last UNet, fused AdamW and gradient clipping, as ``galaxysd.diffusion.train`` sets
  them up (the second step is timed; the first allocates the optimiser state);
- **sample**: one Euler-ancestral step with classifier-free guidance (the UNet on a batch of two,
  53x53 latents), and the VAE decoding one 424 px image, as ``galaxysd.diffusion.sample.generate``;
- **resnet**: one training step of the classifiers' ResNet-18 (``galaxysd.backbone``) at 224 px,
  batch 64 (the paper's classifier batch), Adam.

Usage::

    nice python benchmarks/sd15_rehearsal.py                 # full size (about 18 GB of memory to train)
    python benchmarks/sd15_rehearsal.py --small              # the tests' small form: checks the script runs
    python benchmarks/sd15_rehearsal.py --bf16               # bfloat16 weights where float32 would not fit
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

RES, LATENT = 424, 53


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # kB on Linux


def _parts(small: bool, dtype: torch.dtype, names=("unet", "vae", "text_encoder")) -> dict:
    """The named parts of :func:`galaxysd.diffusion.sd15.sd15_components` (only those: the UNet takes
    minutes to initialise on a busy CPU), with the tokenizer and scheduler."""
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from galaxysd.diffusion import sd15
    from galaxysd.diffusion.clip_tokenizer import load_clip_tokenizer

    narrow = sd15.SMALL if small else {}
    build = {"unet": lambda: UNet2DConditionModel(**{**sd15.UNET, **narrow.get("unet", {})}),
             "vae": lambda: AutoencoderKL(**{**sd15.VAE, **narrow.get("vae", {})}),
             "text_encoder": lambda: CLIPTextModel(CLIPTextConfig(**{**sd15.TEXT_ENCODER,
                                                                      **narrow.get("text_encoder", {})}))}
    parts = {name: build[name]().to(dtype) for name in names}
    parts.update(tokenizer=load_clip_tokenizer(), scheduler=PNDMScheduler(**sd15.SCHEDULER))
    return parts


def piece_latent(small: bool, dtype: torch.dtype) -> dict:
    vae = _parts(small, dtype, ["vae"])["vae"].eval()
    image = torch.rand(1, 3, RES, RES, dtype=dtype) * 2 - 1
    with torch.no_grad():
        t0 = time.perf_counter()
        dist = vae.encode(image).latent_dist
        seconds = time.perf_counter() - t0
    assert tuple(dist.mean.shape) == (1, 4, LATENT, LATENT)
    return {"seconds": seconds}


def piece_train(small: bool, dtype: torch.dtype) -> dict:
    parts = _parts(small, dtype, ["unet", "text_encoder"])
    unet, text_encoder, tokenizer = parts["unet"], parts["text_encoder"], parts["tokenizer"]
    unet.train().to(memory_format=torch.channels_last)
    text_encoder.train()
    unet.enable_gradient_checkpointing()
    text_encoder.gradient_checkpointing_enable()
    params = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=1.6e-6, weight_decay=1e-3, fused=True)
    ids = tokenizer(["sdss, early-type galaxy, dust lane"], padding="max_length", max_length=77,
                    truncation=True, return_tensors="pt").input_ids
    latents = torch.randn(1, 4, LATENT, LATENT, dtype=dtype)
    times = []
    for step in range(2):
        t0 = time.perf_counter()
        noise = torch.randn_like(latents)
        t = torch.randint(0, 1000, (1,))
        noisy = parts["scheduler"].add_noise(latents, noise, t)
        hidden = text_encoder(ids)[0]
        pred = unet(noisy, t, hidden).sample
        loss = torch.nn.functional.mse_loss(pred.float(), noise.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
    return {"seconds": times[-1], "first_step_seconds": times[0]}


def piece_sample(small: bool, dtype: torch.dtype) -> dict:
    from diffusers import EulerAncestralDiscreteScheduler

    parts = _parts(small, dtype)
    unet, vae = parts["unet"].eval(), parts["vae"].eval()
    text_encoder, tokenizer = parts["text_encoder"], parts["tokenizer"]
    scheduler = EulerAncestralDiscreteScheduler.from_config(parts["scheduler"].config, timestep_spacing="linspace")
    scheduler.set_timesteps(40)
    with torch.no_grad():
        ids = tokenizer(["sdss, edge-on galaxy", ""], padding="max_length", max_length=77,
                        return_tensors="pt").input_ids
        hidden = text_encoder(ids)[0]
        latents = torch.randn(1, 4, LATENT, LATENT, dtype=dtype) * scheduler.init_noise_sigma
        t = scheduler.timesteps[0]
        t0 = time.perf_counter()
        model_in = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        cond, uncond = unet(model_in, t, hidden).sample.chunk(2)
        latents = scheduler.step(uncond + 6.5 * (cond - uncond), t, latents).prev_sample
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        image = vae.decode(latents / vae.config.scaling_factor).sample
        decode = time.perf_counter() - t0
    assert tuple(image.shape) == (1, 3, RES, RES)
    return {"seconds": seconds, "decode_seconds": decode}


def piece_resnet(small: bool, dtype: torch.dtype) -> dict:
    from galaxysd.backbone import resnet18_classifier

    net = resnet18_classifier(2).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    images, labels = torch.randn(64, 3, 224, 224), torch.randint(0, 2, (64,))
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(net(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
    return {"seconds": times[-1], "batch": 64}


PIECES = {"latent": piece_latent, "train": piece_train, "sample": piece_sample, "resnet": piece_resnet}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the small form of the tests")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 weights (training and sampling)")
    parser.add_argument("--only", nargs="+", choices=list(PIECES), default=list(PIECES))
    parser.add_argument("--piece", choices=list(PIECES), help=argparse.SUPPRESS)  # one piece, in this process
    args = parser.parse_args(argv)
    dtype = torch.bfloat16 if args.bf16 else torch.float32
    if args.piece:
        torch.manual_seed(0)
        result = PIECES[args.piece](args.small, dtype)
        print(json.dumps({**result, "peak_gib": _peak_gib()}))
        return 0
    print(f"SD v1.5 architecture ({'small form' if args.small else 'full size'}), {dtype}, "
          f"{torch.get_num_threads()} threads, 424 px (53x53 latents)")
    for name in args.only:
        cmd = [sys.executable, __file__, "--piece", name] + ["--small"] * args.small + ["--bf16"] * args.bf16
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            print(f"{name:8s} failed: {done.stderr.strip()[-600:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        extra = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()
                          if k not in ("seconds", "peak_gib"))
        print(f"{name:8s} {result['seconds']:8.2f} s   peak {result['peak_gib']:6.2f} GiB   {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
