"""Throughput of the paper's diffusion workload on one GPU: fine-tuning and sampling images per second.

The model has Stable Diffusion v1.5's architecture (UNet 859.5M parameters, CLIP ViT-L/14 text encoder
123.1M, the SD VAE decoder) with random weights: the arithmetic is the same as with the real weights,
so no download is needed. Two measurements:

- **fine-tuning**: full fine-tune of UNet and text encoder from cached latents (424 px -> 53x53
  latents), batch 16, bf16 autocast, SDPA attention, AdamW, gradient clipping -- the paper's recipe;
- **sampling**: Euler ancestral, 40 steps, classifier-free guidance (two UNet passes per step),
  text encoding and VAE decoding included, 424 px.

Each is reported in images/s and in achieved TFLOP/s (FLOPs counted with torch's FLOP counter on one
image). The paper's run did ~14 images/s of fine-tuning on one RTX 3090; the goal on one H200 is
>= 200 images/s for fine-tuning and >= 8 images/s for sampling.

Usage::

    python benchmarks/gpu_diffusion.py                    # the real sizes on the GPU (< 5 min on an H200)
    python benchmarks/gpu_diffusion.py --tiny             # a tiny model on the CPU: checks the script runs
    python benchmarks/gpu_diffusion.py --json out.json    # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time

import torch

#: Stable Diffusion v1.5 (data.md) and a tiny stand-in of the same block structure.
SIZES = {
    "sd15": dict(
        unet=dict(block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, cross_attention_dim=768,
                  attention_head_dim=8, norm_num_groups=32,
                  down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                  up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3),
        text=dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                  num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
                  projection_dim=768),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32,
                 down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4),
        vae_factor=8),
    "tiny": dict(
        unet=dict(block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32,
                  attention_head_dim=8, norm_num_groups=16,
                  down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D")),
        text=dict(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=32),
        vae=dict(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=16,
                 down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2),
        vae_factor=2),
}
NOISE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tiny", action="store_true",
                        help="tiny model, 32 px, CPU, few steps: a quick check that the script works")
    parser.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda if available, cpu with --tiny)")
    parser.add_argument("--resolution", type=int, default=None, help="image side in pixels (default 424; 32 with --tiny)")
    parser.add_argument("--batch", type=int, default=None, help="fine-tuning batch (default 16; 2 with --tiny)")
    parser.add_argument("--sample-batch", type=int, default=None, help="images per sampling call (default 16; 2 with --tiny)")
    parser.add_argument("--train-steps", type=int, default=None, help="timed fine-tuning steps (default 20; 2 with --tiny)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed warm-up steps/calls (default 3; 1 with --tiny)")
    parser.add_argument("--sample-steps", type=int, default=None, help="denoising steps (default 40; 3 with --tiny)")
    parser.add_argument("--sample-repeats", type=int, default=None, help="timed sampling calls (default 3; 1 with --tiny)")
    parser.add_argument("--guidance", type=float, default=6.5, help="classifier-free guidance scale")
    parser.add_argument("--dtype", choices=("bf16", "fp16", "fp32"), default="bf16",
                        help="autocast dtype for fine-tuning; weight dtype for sampling")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory")
    parser.add_argument("--freeze-text-encoder", action="store_true", help="fine-tune the UNet only")
    parser.add_argument("--compile", action="store_true", help="torch.compile the UNet (adds compile time)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format for the UNet")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    full = dict(resolution=424, batch=16, sample_batch=16, train_steps=20, warmup=3, sample_steps=40,
                sample_repeats=3)
    tiny = dict(resolution=32, batch=2, sample_batch=2, train_steps=2, warmup=1, sample_steps=3, sample_repeats=1)
    for key, value in (tiny if args.tiny else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.device is None:
        args.device = "cpu" if args.tiny or not torch.cuda.is_available() else "cuda"
    return args


def build(size: str, resolution: int, device: torch.device, seed: int):
    """UNet, text encoder and VAE with random weights, created directly on ``device``."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    spec = SIZES[size]
    torch.manual_seed(seed)
    latent = resolution // spec["vae_factor"]
    with device:
        unet = UNet2DConditionModel(sample_size=latent, in_channels=4, out_channels=4, **spec["unet"])
        text = CLIPTextModel(CLIPTextConfig(**spec["text"], attn_implementation="sdpa"))
        vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, sample_size=resolution,
                            scaling_factor=0.18215, **spec["vae"])
    return unet, text, vae, latent


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def count_flops(fn) -> float:
    """FLOPs of one call of ``fn`` (torch's counter: 2 per multiply-add, forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return float(counter.get_total_flops())


def bench_train(unet, text, args, latent: int, device: torch.device) -> dict:
    """Images per second of full fine-tuning steps from cached latents."""
    from diffusers import DDPMScheduler

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    scheduler = DDPMScheduler(**NOISE)
    alphas = scheduler.alphas_cumprod.to(device)
    unet.train()
    text.train(not args.freeze_text_encoder)
    text.requires_grad_(not args.freeze_text_encoder)
    if args.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    params = list(unet.parameters()) + ([] if args.freeze_text_encoder else list(text.parameters()))
    optimizer = torch.optim.AdamW(params, lr=1.6e-6, weight_decay=1e-3, fused=device.type == "cuda")
    scaler = torch.amp.GradScaler(device.type, enabled=args.dtype == "fp16")
    model = torch.compile(unet) if args.compile else unet
    vocab = text.config.vocab_size
    gen = torch.Generator(device).manual_seed(args.seed)

    def step(batch: int) -> float:
        latents = torch.randn(batch, 4, latent, latent, device=device, generator=gen)  # the latent cache
        ids = torch.randint(0, vocab, (batch, 77), device=device, generator=gen)
        noise = torch.randn(latents.shape, device=device, generator=gen)
        t = torch.randint(0, 1000, (batch,), device=device, generator=gen)
        a = alphas[t].sqrt()[:, None, None, None]
        noisy = a * latents + (1 - a ** 2).sqrt() * noise
        with torch.autocast(device.type, dtype=dtype, enabled=args.dtype != "fp32"):
            context = text(ids)[0]
            pred = model(noisy, t, context).sample
        loss = torch.nn.functional.mse_loss(pred.float(), noise)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    for _ in range(args.warmup):
        step(args.batch)
    sync(device)
    start = time.perf_counter()
    for _ in range(args.train_steps):
        loss = step(args.batch)
    sync(device)
    seconds = time.perf_counter() - start
    flops = count_flops(lambda: step(1))
    optimizer.zero_grad(set_to_none=True)
    images_per_s = args.batch * args.train_steps / seconds
    return dict(images_per_s=images_per_s, seconds_per_step=seconds / args.train_steps,
                flop_per_image=flops, tflop_per_s=flops * images_per_s / 1e12, last_loss=float(loss),
                peak_memory_gb=(torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None))


@torch.no_grad()
def bench_sample(unet, text, vae, args, device: torch.device) -> dict:
    """Images per second of guided Euler-ancestral sampling, text encoding and decoding included."""
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionPipeline

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    for module in (unet, text, vae):
        module.eval().requires_grad_(False).to(dtype)
    if args.channels_last:
        unet.to(memory_format=torch.channels_last)
    scheduler = EulerAncestralDiscreteScheduler(**NOISE, timestep_spacing="linspace", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=None, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    if args.compile:
        pipe.unet = torch.compile(pipe.unet)
    vocab = text.config.vocab_size
    gen = torch.Generator(device).manual_seed(args.seed)

    def call(batch: int, steps: int):
        # the prompts' token ids stand in for tokenizing; encoding them is part of the timed work
        ids = torch.randint(0, vocab, (2 * batch, 77), device=device, generator=gen)
        embeds = text(ids)[0]
        return pipe(prompt_embeds=embeds[:batch], negative_prompt_embeds=embeds[batch:],
                    height=args.resolution, width=args.resolution, num_inference_steps=steps,
                    guidance_scale=args.guidance, generator=gen, output_type="pt").images

    for _ in range(args.warmup):
        call(args.sample_batch, 2)
    sync(device)
    start = time.perf_counter()
    for _ in range(args.sample_repeats):
        images = call(args.sample_batch, args.sample_steps)
    sync(device)
    seconds = time.perf_counter() - start
    assert images.shape == (args.sample_batch, 3, args.resolution, args.resolution)
    latent = args.resolution // (2 ** (len(vae.config.block_out_channels) - 1))
    x = torch.randn(2, 4, latent, latent, device=device, dtype=dtype)
    ids = torch.randint(0, vocab, (2, 77), device=device)
    unet_flops = count_flops(lambda: unet(x, torch.tensor([999, 999], device=device), text(ids)[0]))
    text_flops = count_flops(lambda: text(ids))
    decode_flops = count_flops(lambda: vae.decode(x[:1] / vae.config.scaling_factor))
    flops = args.sample_steps * unet_flops + text_flops + decode_flops
    images_per_s = args.sample_batch * args.sample_repeats / seconds
    return dict(images_per_s=images_per_s, seconds_per_call=seconds / args.sample_repeats,
                flop_per_image=flops, tflop_per_s=flops * images_per_s / 1e12,
                unet_forward_gflop_per_image=unet_flops / 2 / 1e9, vae_decode_gflop=decode_flops / 1e9)


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    size = "tiny" if args.tiny else "sd15"
    began = time.perf_counter()
    unet, text, vae, latent = build(size, args.resolution, device, args.seed)
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in
              (("unet", unet), ("text_encoder", text), ("vae", vae))}
    result = dict(model=size, device=str(device),
                  device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
                  torch=torch.__version__, dtype=args.dtype, resolution=args.resolution, latent=latent,
                  parameters_millions={k: round(v / 1e6, 1) for k, v in params.items()},
                  train=None, sample=None)
    print(f"[gpu_diffusion] {size} model on {result['device_name'] or device}: "
          f"UNet {params['unet'] / 1e6:.1f}M, text encoder {params['text_encoder'] / 1e6:.1f}M parameters; "
          f"{args.resolution} px -> {latent}x{latent} latents", flush=True)
    if not args.skip_train:
        result["train"] = bench_train(unet, text, args, latent, device)
        result["train"].update(batch=args.batch, steps=args.train_steps)
        r = result["train"]
        print(f"fine-tuning: {r['images_per_s']:.1f} images/s (batch {args.batch}, {args.dtype}, "
              f"{r['seconds_per_step'] * 1e3:.0f} ms/step), {r['flop_per_image'] / 1e12:.3g} TFLOP/image, "
              f"{r['tflop_per_s']:.3g} TFLOP/s achieved", flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if not args.skip_sample:
        result["sample"] = bench_sample(unet, text, vae, args, device)
        result["sample"].update(batch=args.sample_batch, steps=args.sample_steps, guidance=args.guidance,
                                scheduler="EulerAncestralDiscreteScheduler")
        r = result["sample"]
        print(f"sampling: {r['images_per_s']:.2f} images/s (Euler-a, {args.sample_steps} steps, guidance "
              f"{args.guidance}, batch {args.sample_batch}), {r['flop_per_image'] / 1e12:.3g} TFLOP/image, "
              f"{r['tflop_per_s']:.3g} TFLOP/s achieved", flush=True)
    result["wall_seconds"] = time.perf_counter() - began
    print(f"[gpu_diffusion] done in {result['wall_seconds']:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:])
