"""A PyTorch prototype of the 28x28 models, for screening training recipes at p = 0.9.

Not part of the product: recipes that score well here are run again with ambient-host,
whose runs are the ones docs/results.md reports. Run it with the Python of the libtorch
install (scripts/env.sh names it) and numpy beside it, which that install lacks:

    pip install --target /tmp/pylib numpy
    PYTHONPATH=/tmp/pylib /opt/ambient/torch-2.13.0/bin/python \
        docs/results/prototype/gan.py --name wgan1 --loss wgan --ema 0.999 --out /tmp/p

It appends one JSON line per finished run to OUT/results.jsonl and writes sample grids.
"""
import argparse, gzip, json, math, os, struct, time
from pathlib import Path
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[3]


def idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, n, h, w = struct.unpack(">IIII", data[:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, h, w).astype(np.float32) / 255


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], np.float32).reshape(v["shape"])
        out[k] = torch.from_numpy(arr.copy())
    return out


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
        self.fc1 = nn.Linear(32 * 49, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        f = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(f), f


def classifier():
    net = Cnn()
    w = load_safetensors(f"{ROOT}/data/classifier/mnist-cnn.safetensors")
    net.load_state_dict(w)
    return net.eval()


def inception(probs, splits=10):
    scores = []
    for p in np.array_split(probs, splits):
        py = p.mean(0, keepdims=True)
        kl = (p * (np.log(p + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
        scores.append(math.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def frechet(a, b):
    from numpy.linalg import eigh
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = eigh(ca)
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sa @ cb @ sa
    w2 = np.linalg.eigvalsh(m)
    return float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.clip(w2, 0, None)).sum())


def save_grid(x, path):
    import zlib
    n, _, h, w = x.shape
    k = int(math.ceil(math.sqrt(n)))
    img = np.full((k * (h + 2), k * (w + 2)), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, k)
        img[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = (x[i, 0] * 255).clip(0, 255)
    raw = b"".join(b"\0" + img[i].tobytes() for i in range(img.shape[0]))
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", img.shape[1], img.shape[0], 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


class Gen(nn.Module):
    def __init__(self, width=128, latent=64, upsample=False):
        super().__init__()
        self.width = width
        self.fc = nn.Linear(latent, width * 49)
        self.bn0 = nn.BatchNorm2d(width)
        if upsample:
            self.up1 = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(width, width // 2, 3, padding=1))
            self.up2 = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(width // 2, 1, 3, padding=1))
        else:
            self.up1 = nn.ConvTranspose2d(width, width // 2, 4, 2, 1)
            self.up2 = nn.ConvTranspose2d(width // 2, 1, 4, 2, 1)
        self.bn1 = nn.BatchNorm2d(width // 2)

    def forward(self, z):
        x = self.fc(z).view(-1, self.width, 7, 7)
        x = F.relu(self.bn0(x))
        x = F.relu(self.bn1(self.up1(x)))
        return torch.sigmoid(self.up2(x))


class PaperGen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 4096)
        self.d1 = nn.ConvTranspose2d(256, 128, 5, 2, 2, output_padding=1)
        self.d2 = nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1)
        self.d3 = nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1)

    def forward(self, z):
        x = F.relu(self.fc(z)).view(-1, 256, 4, 4)
        x = F.relu(self.d1(x))[:, :, :7, :7]
        x = F.relu(self.d2(x))
        return torch.sigmoid(self.d3(x))


class Disc(nn.Module):
    def __init__(self, width=64, bn=False, sn=False, extra=False, cin=1, full=False):
        super().__init__()
        wrap = nn.utils.spectral_norm if sn else (lambda m: m)
        self.stem = wrap(nn.Conv2d(cin, width // 2, 3, 1, 1)) if full else None
        self.conv1 = wrap(nn.Conv2d(width // 2 if full else cin, width, 4, 2, 1))
        self.conv2 = wrap(nn.Conv2d(width, 2 * width, 4, 2, 1))
        self.extra = wrap(nn.Conv2d(2 * width, 2 * width, 3, 1, 1)) if extra else None
        self.bn = nn.BatchNorm2d(2 * width) if bn else None
        self.fc = wrap(nn.Linear(2 * width * 49, 1))

    def forward(self, y):
        if self.stem is not None:
            y = F.leaky_relu(self.stem(y), 0.2)
        x = F.leaky_relu(self.conv1(y), 0.2)
        x = self.conv2(x)
        if self.bn is not None:
            x = self.bn(x)
        x = F.leaky_relu(x, 0.2)
        if self.extra is not None:
            x = F.leaky_relu(self.extra(x), 0.2)
        return self.fc(x.flatten(1))


class PaperDisc(nn.Module):
    def __init__(self, cin=1, w=64, k=5):
        super().__init__()
        self.c1 = nn.Conv2d(cin, w, k, 2, 2)
        self.c2 = nn.Conv2d(w, 2 * w, k, 2, 2)
        self.c3 = nn.Conv2d(2 * w, 4 * w, k, 2, 2)
        self.fc = nn.Linear(4 * w * (16 if k == 5 else 25), 1)

    def forward(self, y):
        x = F.leaky_relu(self.c1(y), 0.2)
        x = F.leaky_relu(self.c2(x), 0.2)
        x = F.leaky_relu(self.c3(x), 0.2)
        return self.fc(x.flatten(1))


def measure(x, p, rescale, reveal):
    keep = (torch.rand_like(x) >= p).float()
    y = x * keep
    if rescale:
        y = y / (1 - p)
    if reveal:
        y = torch.cat([y, keep], 1)
    return y


ZDRAW = [lambda n: torch.randn(n, 64)]


def score(Gs, net, rf):
    Gs.eval()
    state = torch.get_rng_state()
    torch.manual_seed(1234)
    with torch.no_grad():
        xs = Gs(ZDRAW[0](1000))
        logits, feats = net(xs)
        probs = F.softmax(logits, 1).numpy().astype(np.float64)
    torch.set_rng_state(state)
    is_m, is_s = inception(probs)
    fid = frechet(feats.numpy().astype(np.float64), rf)
    return is_m, is_s, fid, probs, xs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--p", type=float, default=0.9)
    ap.add_argument("--mode", default="ambient")
    ap.add_argument("--loss", default="ns")  # ns, hinge or wgan (any other value: WGAN-GP)
    ap.add_argument("--lr-g", type=float, default=2e-4)
    ap.add_argument("--lr-d", type=float, default=None)
    ap.add_argument("--beta1", type=float, default=0.5)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--critic", type=int, default=1)
    ap.add_argument("--gp", type=float, default=10.0)
    ap.add_argument("--r1", type=float, default=0.0)
    ap.add_argument("--dwidth", type=int, default=64)
    ap.add_argument("--gwidth", type=int, default=128)
    ap.add_argument("--dbn", action="store_true")
    ap.add_argument("--sn", action="store_true")
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--pdisc", action="store_true")
    ap.add_argument("--pgen", action="store_true")
    ap.add_argument("--pw", type=int, default=64)
    ap.add_argument("--pk", type=int, default=5)
    ap.add_argument("--upsample", action="store_true")
    ap.add_argument("--no-rescale", action="store_true")
    ap.add_argument("--reveal", action="store_true")
    ap.add_argument("--ema", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--decay", action="store_true")
    ap.add_argument("--gk", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", type=float, default=0.0, help="stop after this many seconds")
    ap.add_argument("--name", default="run")
    ap.add_argument("--out", default="prototype-runs", help="folder of results and grids")
    ap.add_argument("--eval-every", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    lr_d = a.lr_d or a.lr_g

    train = torch.from_numpy(idx_images(f"{ROOT}/data/mnist-10k/train-images-idx3-ubyte.gz"))
    test = torch.from_numpy(idx_images(f"{ROOT}/data/mnist-10k/t10k-images-idx3-ubyte.gz"))
    G = PaperGen() if a.pgen else Gen(a.gwidth, upsample=a.upsample)
    latent = 128 if a.pgen else 64
    zdraw = (lambda n: torch.rand(n, 128) * 2 - 1) if a.pgen else (lambda n: torch.randn(n, 64))
    D = Disc(a.dwidth, a.dbn, a.sn, a.extra, cin=2 if a.reveal else 1, full=a.full)
    if a.pdisc:
        D = PaperDisc(cin=2 if a.reveal else 1, w=a.pw, k=a.pk)
    G.apply(init)
    D.apply(init)
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
    ZDRAW[0] = zdraw
    G_ema = None
    if a.ema > 0:
        import copy
        G_ema = copy.deepcopy(G)
    og = torch.optim.Adam(G.parameters(), a.lr_g, betas=(a.beta1, a.beta2))
    od = torch.optim.Adam(D.parameters(), lr_d, betas=(a.beta1, a.beta2))
    rescale = not a.no_rescale
    meas = lambda x: x if a.mode == "clean" else measure(x, a.p, rescale, a.reveal)
    n = train.shape[0]
    perm = torch.randperm(n)
    pos = 0

    def real_batch():
        nonlocal perm, pos
        if pos + a.batch > n:
            perm, pos = torch.randperm(n), 0
        idx = perm[pos:pos + a.batch]
        pos += a.batch
        return train[idx]

    net = classifier()
    with torch.no_grad():
        rf_test = net(test)[1].numpy().astype(np.float64)
    t0 = time.time()
    log = []
    step = 0
    while step < a.steps:
        step += 1
        if a.decay:
            f = 1 - (step - 1) / a.steps
            for o, lr in ((og, a.lr_g), (od, lr_d)):
                for g in o.param_groups:
                    g["lr"] = lr * f
        for _ in range(a.critic):
            x = real_batch()
            yr = meas(x)
            z = zdraw(a.batch)
            with torch.no_grad():
                yf = meas(G(z))
            if a.r1 > 0:
                yr.requires_grad_(True)
            dr, df = D(yr), D(yf)
            if a.loss == "ns":
                ld = F.softplus(-dr).mean() + F.softplus(df).mean()
            elif a.loss == "hinge":
                ld = F.relu(1 - dr).mean() + F.relu(1 + df).mean()
            else:
                ld = df.mean() - dr.mean()
                al = torch.rand(a.batch, 1, 1, 1)
                mix = (yr + al * (yf - yr)).detach().requires_grad_(True)
                g, = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)
                ld = ld + a.gp * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
            if a.r1 > 0:
                g, = torch.autograd.grad(dr.sum(), yr, create_graph=True)
                ld = ld + a.r1 / 2 * g.pow(2).flatten(1).sum(1).mean()
            od.zero_grad()
            ld.backward()
            od.step()
        z = zdraw(a.batch)
        yf = meas(G(z).repeat(a.gk, 1, 1, 1))
        df = D(yf)
        lg = F.softplus(-df).mean() if a.loss == "ns" else -df.mean()
        og.zero_grad()
        lg.backward()
        og.step()
        if G_ema is not None:
            with torch.no_grad():
                d = min(a.ema, (1 + step) / (10 + step))
                for pe, p in zip(G_ema.parameters(), G.parameters()):
                    pe.mul_(d).add_(p, alpha=1 - d)
                for be, b in zip(G_ema.buffers(), G.buffers()):
                    be.copy_(b)
        if a.eval_every and step % a.eval_every == 0:
            te = time.time()
            msg = [f"raw {score(G, net, rf_test)[0]:.2f}"]
            if G_ema is not None:
                msg.append(f"ema {score(G_ema, net, rf_test)[0]:.2f}")
            G.train()
            print(f"{a.name} eval {step} " + " ".join(msg), flush=True)
            t0 += time.time() - te
        if step % 250 == 0:
            el = time.time() - t0
            print(f"{a.name} step {step} ld {ld.item():.3f} lg {lg.item():.3f} {el:.0f}s", flush=True)
        if a.budget and time.time() - t0 > a.budget:
            break
    train_s = time.time() - t0

    res = dict(name=a.name, args=vars(a), steps=step, train_s=round(train_s, 1))
    for tag, Gs in (("raw", G), ("ema", G_ema)):
        if Gs is None:
            continue
        is_m, is_s, fid, probs, xs = score(Gs, net, rf_test)
        hist = np.bincount(probs.argmax(1), minlength=10).tolist()
        res[tag] = dict(IS=round(is_m, 3), IS_sd=round(is_s, 3), FID=round(fid, 1), hist=hist)
        save_grid(xs[:64].numpy(), f"{a.out}/{a.name}-{tag}.png")
    print(json.dumps(res), flush=True)
    with open(f"{a.out}/results.jsonl", "a") as f:
        f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
