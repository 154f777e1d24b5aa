"""One training step of the CPU preset in plain PyTorch, for `ambient-bench`.

The same model, optimiser, batch and measurement as `ambient-host train --preset cpu
--mode ambient --measurement block-pixels --param p=0.9`:

- generator: z (64, N(0, I)) -> dense 128*7*7 -> reshape -> batch norm -> ReLU ->
  transposed conv 4x4 s2 p1 -> 64x14x14 -> batch norm -> ReLU -> transposed conv 4x4 s2
  p1 -> 1x28x28 -> sigmoid;
- discriminator: conv 4x4 s2 p1 -> 64 -> leaky ReLU 0.2 -> conv 4x4 s2 p1 -> 128 ->
  leaky ReLU 0.2 -> flatten -> dense 1;
- weights N(0, 0.02), biases 0; Adam (torch.optim.Adam) lr 2e-4, betas (0.5, 0.999);
  batch 64; sigmoid cross-entropy, non-saturating generator loss;
- Block-Pixels p = 0.9: each pixel kept with probability 0.1 and scaled by 1 / 0.1, one
  mask per image, applied to the real batch (without gradient) and to the generated batch.

A step is what the Rust trainer times: draw the real batch and measure it, draw z,
generate, measure, one discriminator update, one generator update, and read the four loss
scalars. The real images are the IDX training images of --data (MNIST).

Run: python pytorch_train_step.py --data data/mnist-10k --steps 60 --threads 1
Prints one JSON line with the median step time in milliseconds (warm-up steps left out).
"""

import argparse
import gzip
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


def read_idx_images(folder):
    """Returns the training images of an MNIST-style folder as floats in [0, 1]."""
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            count, rows, cols = (int.from_bytes(data[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
            pixels = torch.frombuffer(bytearray(data[16:16 + count * rows * cols]), dtype=torch.uint8)
            return (pixels.to(torch.float32) / 255.0).view(count, 1, rows, cols)
    raise SystemExit(f"no train-images-idx3-ubyte(.gz) in {folder}")


def init_weights(module):
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 128 * 7 * 7)
        self.bn0 = nn.BatchNorm2d(128)
        self.up1 = nn.ConvTranspose2d(128, 64, 4, 2, 1)
        self.bn1 = nn.BatchNorm2d(64)
        self.up2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)

    def forward(self, z):
        x = self.fc(z).view(-1, 128, 7, 7)
        x = F.relu(self.bn0(x))
        x = F.relu(self.bn1(self.up1(x)))
        return torch.sigmoid(self.up2(x))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 4, 2, 1)
        self.conv2 = nn.Conv2d(64, 128, 4, 2, 1)
        self.fc = nn.Linear(128 * 7 * 7, 1)

    def forward(self, y):
        x = F.leaky_relu(self.conv1(y), 0.2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        return self.fc(x.flatten(1))


def block_pixels(x, p):
    """Keeps each value with probability 1 - p, scaled by 1 / (1 - p)."""
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    return x * keep * (1.0 / (1.0 - p))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MNIST-style folder of IDX files")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warm-up", type=int, default=5, help="steps left out of the median")
    parser.add_argument("--p", type=float, default=0.9, help="Block-Pixels drop probability")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = read_idx_images(args.data)
    gen, disc = Generator(), Discriminator()
    gen.apply(init_weights)
    disc.apply(init_weights)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    order = torch.randperm(images.shape[0])

    times = []
    for step in range(args.steps):
        started = time.perf_counter()
        start = (step * args.batch) % (images.shape[0] - args.batch + 1)
        with torch.no_grad():
            real = block_pixels(images[order[start:start + args.batch]], args.p)
        z = torch.randn(args.batch, 64)
        fake = block_pixels(gen(z), args.p)

        d_real = disc(real)
        d_fake = disc(fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        out = disc(fake)
        g_loss = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        losses = (d_loss.item(), g_loss.item(), d_real.mean().item(), d_fake.mean().item())
        times.append((time.perf_counter() - started) * 1e3)

    print(json.dumps({
        "median_step_ms": statistics.median(times[args.warm_up:]),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "last_losses": losses,
    }))


if __name__ == "__main__":
    main()
