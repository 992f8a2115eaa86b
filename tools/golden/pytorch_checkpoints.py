#!/usr/bin/python3
"""Golden fixtures for `ssd-edge convert ckpt.pth`: small PyTorch SSD checkpoints in both
torch.save formats, and PyTorch's own head outputs on one fixed input.

Three networks, random weights (seeded), narrow (every channel count × WIDTH) so the files stay
small; the converter reads channel counts from the tensors, so width changes nothing else:

1. ssd.pytorch's SSD300 (amdegroot/ssd.pytorch ssd.py: `vgg`, `add_extras`, `multibox`, `SSD`,
   layers/modules/l2norm.py), re-declared below with its module names, so its state dict has
   ssd.pytorch's keys (vgg.N, L2Norm.weight, extras.N, loc.N, conf.N); train-phase forward.
2. The same family at 512 (SSD512: the SSD paper's extras, as `ssd512-voc` maps them).
3. torchvision's `ssd300_vgg16`: the real torchvision `SSD` and `SSDHead`, with a re-declared
   `SSDFeatureExtractorVGG` (torchvision's hard-codes 512/1024 channels). The script asserts
   that the re-declaration has torchvision's exact key set and, at full width with the real
   `ssd300_vgg16(weights=None)`'s state dict loaded, gives the real model's outputs bit for bit.

Writes (tests/fixtures/pytorch/README.md describes them):
  ssd300-voc.zip.pth        torch.save(sd, f)                                  (zip, PyTorch ≥ 1.6)
  ssd300-voc.legacy.pth     torch.save(sd, f, _use_new_zipfile_serialization=False), storages
                            tagged 'cuda:0' as a GPU save writes them
  ssd300-voc.v1.pth         a legacy stream as PyTorch < 1.0 wrote it: torch._utils._rebuild_tensor
                            (4 arguments), {'state_dict': {'module.' + key: ...}, 'epoch': 12}
  vgg16-reducedfc.w32.pth   ssd300-voc's net.vgg.state_dict() (legacy format), as ssd.pytorch's
                            vgg16_reducedfc.pth: the weights `ssd-edge train --init-from` loads
  ssd512-voc.zip.pth        float16 storages (torch.save of sd.half()); the golden comes from the
                            same half-rounded weights in float32
  torchvision-ssd300.zip.pth, torchvision-ssd300.legacy.pth
  <arch>.json               shapes, the input rule, the sampling, the torch version
  <arch>.heads.f32          PyTorch's loc then conf, every SAMPLE_STRIDE-th value, float32 little-endian

Run:  apt-get install python3-torch python3-torchvision   (Debian; nothing downloaded)
      /usr/bin/python3 tools/golden/pytorch_checkpoints.py
The output is the same on every run (seeded; single-threaded torch).
"""

import io
import json
import pickle
import struct
import sys
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD, SSDHead

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "fixtures" / "pytorch"
WIDTH = 1 / 32
SAMPLE_STRIDE = 7  # coprime with 4 and the class counts: every coordinate and class is sampled
SSD_PYTORCH_CLASSES = 4
TORCHVISION_CLASSES = 5

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)


def scaled(c, width):
    return max(1, round(c * width))


def fixed_input(size):
    """The test input, exact integers in [-127, 127]; tests/convert/pytorch.test.ts computes the same."""
    c, h, w = np.meshgrid(np.arange(3), np.arange(size), np.arange(size), indexing="ij")
    x = (c * 59 + h * h * 3 + w * 17 + h * w) % 255 - 127
    return torch.from_numpy(x.astype(np.float32))[None]


# ===========================================================================
# ssd.pytorch, re-declared (amdegroot/ssd.pytorch ssd.py, layers/modules/l2norm.py)
# ===========================================================================
BASE = [64, 64, "M", 128, 128, "M", 256, 256, 256, "C", 512, 512, 512, "M", 512, 512, 512]
EXTRAS = {
    300: [256, "S", 512, 128, "S", 256, 128, 256, 128, 256],
    # the SSD paper's SSD512: four stride-2 pairs, then 1x1 and a 4x4 pad-1 conv ('K')
    512: [256, "S", 512, 128, "S", 256, 128, "S", 256, 128, "S", 256, 128, "K", 256],
}
MBOX = {300: [4, 6, 6, 6, 4, 4], 512: [4, 6, 6, 6, 6, 4, 4]}


def vgg(cfg, i, width):
    layers, in_channels = [], i
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        elif v == "C":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)]
        else:
            conv2d = nn.Conv2d(in_channels, scaled(v, width), kernel_size=3, padding=1)
            layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = scaled(v, width)
    pool5 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
    conv6 = nn.Conv2d(in_channels, scaled(1024, width), kernel_size=3, padding=6, dilation=6)
    conv7 = nn.Conv2d(scaled(1024, width), scaled(1024, width), kernel_size=1)
    layers += [pool5, conv6, nn.ReLU(inplace=True), conv7, nn.ReLU(inplace=True)]
    return layers


def add_extras(cfg, i, width):
    layers, in_channels, flag = [], i, False
    for k, v in enumerate(cfg):
        if in_channels not in ("S", "K"):
            if v == "S":
                layers += [nn.Conv2d(in_channels, scaled(cfg[k + 1], width), kernel_size=(1, 3)[flag], stride=2, padding=1)]
            elif v == "K":
                layers += [nn.Conv2d(in_channels, scaled(cfg[k + 1], width), kernel_size=4, padding=1)]
            else:
                layers += [nn.Conv2d(in_channels, scaled(v, width), kernel_size=(1, 3)[flag])]
            flag = not flag
        in_channels = v if v in ("S", "K") else scaled(v, width)
    return layers


class L2Norm(nn.Module):
    def __init__(self, n_channels, scale):
        super().__init__()
        self.n_channels, self.gamma, self.eps = n_channels, scale, 1e-10
        self.weight = nn.Parameter(torch.Tensor(self.n_channels))
        nn.init.constant_(self.weight, self.gamma)

    def forward(self, x):
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        x = torch.div(x, norm)
        return self.weight.unsqueeze(0).unsqueeze(2).unsqueeze(3).expand_as(x) * x


class SsdPytorch(nn.Module):
    """ssd.pytorch's SSD in phase 'train': forward returns (loc, conf) without softmax (priors left out)."""

    def __init__(self, size, num_classes, width):
        super().__init__()
        self.num_classes = num_classes
        self.vgg = nn.ModuleList(vgg(BASE, 3, width))
        self.L2Norm = L2Norm(scaled(512, width), 20)
        self.extras = nn.ModuleList(add_extras(EXTRAS[size], scaled(1024, width), width))
        sources = [self.vgg[21].out_channels, self.vgg[-2].out_channels] + [v.out_channels for v in self.extras[1::2]]
        self.loc = nn.ModuleList([nn.Conv2d(c, n * 4, kernel_size=3, padding=1) for c, n in zip(sources, MBOX[size])])
        self.conf = nn.ModuleList([nn.Conv2d(c, n * num_classes, kernel_size=3, padding=1) for c, n in zip(sources, MBOX[size])])

    def forward(self, x):
        sources, loc, conf = [], [], []
        for k in range(23):
            x = self.vgg[k](x)
        sources.append(self.L2Norm(x))
        for k in range(23, len(self.vgg)):
            x = self.vgg[k](x)
        sources.append(x)
        for k, v in enumerate(self.extras):
            x = F.relu(v(x), inplace=True)
            if k % 2 == 1:
                sources.append(x)
        for (x, l, c) in zip(sources, self.loc, self.conf):
            loc.append(l(x).permute(0, 2, 3, 1).contiguous())
            conf.append(c(x).permute(0, 2, 3, 1).contiguous())
        loc = torch.cat([o.view(o.size(0), -1) for o in loc], 1)
        conf = torch.cat([o.view(o.size(0), -1) for o in conf], 1)
        return loc.view(loc.size(0), -1, 4), conf.view(conf.size(0), -1, self.num_classes)


# ===========================================================================
# torchvision ssd300_vgg16 with a narrow backbone
# ===========================================================================
class NarrowSSDFeatureExtractorVGG(nn.Module):
    """torchvision's SSDFeatureExtractorVGG (0.14, highres=False) on torchvision's VGG16 features,
    every channel count × width; same module tree, so the same state-dict keys."""

    def __init__(self, width):
        super().__init__()
        s = lambda c: scaled(c, width)  # noqa: E731
        cfg = [s(v) if isinstance(v, int) else v for v in torchvision.models.vgg.cfgs["D"]]
        backbone = torchvision.models.vgg.make_layers(cfg)
        _, _, maxpool3_pos, maxpool4_pos, _ = (i for i, layer in enumerate(backbone) if isinstance(layer, nn.MaxPool2d))
        backbone[maxpool3_pos].ceil_mode = True
        self.scale_weight = nn.Parameter(torch.ones(s(512)) * 20)
        self.features = nn.Sequential(*backbone[:maxpool4_pos])
        extra = nn.ModuleList([
            nn.Sequential(nn.Conv2d(s(1024), s(256), kernel_size=1), nn.ReLU(inplace=True),
                          nn.Conv2d(s(256), s(512), kernel_size=3, padding=1, stride=2), nn.ReLU(inplace=True)),
            nn.Sequential(nn.Conv2d(s(512), s(128), kernel_size=1), nn.ReLU(inplace=True),
                          nn.Conv2d(s(128), s(256), kernel_size=3, padding=1, stride=2), nn.ReLU(inplace=True)),
            nn.Sequential(nn.Conv2d(s(256), s(128), kernel_size=1), nn.ReLU(inplace=True),
                          nn.Conv2d(s(128), s(256), kernel_size=3), nn.ReLU(inplace=True)),
            nn.Sequential(nn.Conv2d(s(256), s(128), kernel_size=1), nn.ReLU(inplace=True),
                          nn.Conv2d(s(128), s(256), kernel_size=3), nn.ReLU(inplace=True)),
        ])
        fc = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=False),
            nn.Conv2d(in_channels=s(512), out_channels=s(1024), kernel_size=3, padding=6, dilation=6),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=s(1024), out_channels=s(1024), kernel_size=1),
            nn.ReLU(inplace=True),
        )
        extra.insert(0, nn.Sequential(*backbone[maxpool4_pos:-1], fc))
        self.extra = extra
        self.out_channels = [s(512), s(1024), s(512), s(256), s(256), s(256)]

    def forward(self, x):
        x = self.features(x)
        rescaled = self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)
        output = [rescaled]
        for block in self.extra:
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def torchvision_ssd(width, num_classes):
    anchor_generator = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]],
                                           scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                                           steps=[8, 16, 32, 64, 100, 300])
    backbone = NarrowSSDFeatureExtractorVGG(width)
    head = SSDHead(backbone.out_channels, anchor_generator.num_anchors_per_location(), num_classes)
    return SSD(backbone, anchor_generator, (300, 300), num_classes, head=head,
               image_mean=[0.48235, 0.45882, 0.40784], image_std=[1.0 / 255.0] * 3).eval()


def torchvision_heads(model, x):
    with torch.no_grad():
        out = model.head(list(model.backbone(x).values()))
    return out["bbox_regression"], out["cls_logits"]


def check_torchvision_redeclaration():
    """Same keys as the real ssd300_vgg16, and at full width the same outputs with its weights."""
    torch.manual_seed(1)
    real = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None).eval()
    ours = torchvision_ssd(1.0, 91)
    real_sd = real.state_dict()
    assert list(ours.state_dict().keys()) == list(real_sd.keys()), "key sets differ from torchvision's ssd300_vgg16"
    ours.load_state_dict(real_sd, strict=True)
    x = fixed_input(300)
    a, b = torchvision_heads(real, x), torchvision_heads(ours, x)
    assert all(torch.equal(p, q) for p, q in zip(a, b)), "the re-declared backbone computes otherwise than torchvision's"
    print(f"torchvision re-declaration: {len(real_sd)} keys as ssd300_vgg16's; full-width outputs identical")


# ===========================================================================
# Saving
# ===========================================================================
def randomise(model):
    """He-normal conv weights and N(0, 0.1) biases (seeded by the caller): activations stay alive
    through 20 narrow layers, so the heads see real features, not only their biases."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.normal_(0, (2.0 / fan_in) ** 0.5)
                m.bias.normal_(0, 0.1)
        # the inputs are about +-127: keep conv1_1's outputs near unit scale
        first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
        first.weight.mul_(1 / 64.0)
    return model


def save_gpu_tagged_legacy(sd, path):
    """torch.save in the legacy format with every storage tagged 'cuda:0', as a GPU save writes it."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    finally:
        torch.serialization.location_tag = original
    assert b"cuda:0" in path.read_bytes()


def save_v1_legacy(obj, path):
    """The legacy stream written by hand as PyTorch < 1.0 wrote it: tensors reduce to
    torch._utils._rebuild_tensor(storage, offset, size, stride); storages ('storage', type, key,
    location, numel, None). torch.load must read it back (checked below)."""
    storages = OrderedDict()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, torch.storage.TypedStorage):
                key = str(len(storages))
                storages[key] = obj
                return ("storage", torch.FloatStorage, key, "cpu", obj.size(), None)
            return None

        def reducer_override(self, obj):
            if isinstance(obj, torch.Tensor):
                t = obj.detach().contiguous()
                return (torch._utils._rebuild_tensor, (t.storage(), t.storage_offset(), tuple(t.size()), t.stride()))
            return NotImplemented

    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
    Pickler(f, protocol=2).dump(obj)
    pickle.dump(list(storages.keys()), f, protocol=2)
    for storage in storages.values():
        data = np.asarray(storage.tolist(), dtype="<f4").tobytes()
        f.write(struct.pack("<q", storage.size()))
        f.write(data)
    path.write_bytes(f.getvalue())


def check_loads(path, sd):
    loaded = torch.load(path, map_location="cpu")
    while "state_dict" in loaded:
        loaded = loaded["state_dict"]
    loaded = OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in loaded.items())
    assert list(loaded.keys()) == list(sd.keys()) and all(torch.equal(loaded[k], sd[k]) for k in sd), path


def golden(name, loc, conf, size, arch):
    loc_flat, conf_flat = loc.numpy().ravel(), conf.numpy().ravel()
    record = {
        "arch": arch,
        "imageSize": size,
        "input": "x[0, c, h, w] = (c*59 + h*h*3 + w*17 + h*w) % 255 - 127",
        "locShape": list(loc.shape),
        "confShape": list(conf.shape),
        "sampleStride": SAMPLE_STRIDE,
        "locMaxAbs": float(np.abs(loc_flat).max()),
        "confMaxAbs": float(np.abs(conf_flat).max()),
        "locSamples": len(loc_flat[::SAMPLE_STRIDE]),
        "confSamples": len(conf_flat[::SAMPLE_STRIDE]),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }
    (OUT_DIR / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    samples = np.concatenate([loc_flat[::SAMPLE_STRIDE], conf_flat[::SAMPLE_STRIDE]]).astype("<f4")
    (OUT_DIR / f"{name}.heads.f32").write_bytes(samples.tobytes())


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    check_torchvision_redeclaration()

    for size, name in [(300, "ssd300-voc"), (512, "ssd512-voc")]:
        torch.manual_seed(size)
        net = randomise(SsdPytorch(size, SSD_PYTORCH_CLASSES, WIDTH)).eval()
        if size == 512:  # float16 storages: the golden uses the same rounded weights
            net.load_state_dict(OrderedDict((k, v.half().float()) for k, v in net.state_dict().items()))
        sd = net.state_dict() if size == 300 else OrderedDict((k, v.half()) for k, v in net.state_dict().items())
        with torch.no_grad():
            loc, conf = net(fixed_input(size))
        golden(name, loc, conf, size, name)
        zip_path = OUT_DIR / f"{name}.zip.pth"
        torch.save(sd, zip_path)
        check_loads(zip_path, sd)
        if size == 300:
            legacy = OUT_DIR / f"{name}.legacy.pth"
            save_gpu_tagged_legacy(sd, legacy)
            check_loads(legacy, sd)
            v1 = OUT_DIR / f"{name}.v1.pth"
            save_v1_legacy({"state_dict": OrderedDict(("module." + k, v) for k, v in sd.items()), "epoch": 12}, v1)
            check_loads(v1, sd)
            # what ssd.pytorch's train.py --basenet loads: the bare VGG ModuleList (keys 0.weight … 33.bias)
            vgg_path = OUT_DIR / "vgg16-reducedfc.w32.pth"
            torch.save(net.vgg.state_dict(), vgg_path, _use_new_zipfile_serialization=False)
            check_loads(vgg_path, net.vgg.state_dict())
        print(f"{name}: {sum(v.numel() for v in sd.values())} parameters, loc {list(loc.shape)}, conf {list(conf.shape)}, "
              f"|loc| <= {loc.abs().max():.3g}, |conf| <= {conf.abs().max():.3g}")

    torch.manual_seed(91)
    model = randomise(torchvision_ssd(WIDTH, TORCHVISION_CLASSES))
    sd = model.state_dict()
    loc, conf = torchvision_heads(model, fixed_input(300))
    golden("torchvision-ssd300", loc, conf, 300, "torchvision-ssd300")
    for fmt, new in [("zip", True), ("legacy", False)]:
        path = OUT_DIR / f"torchvision-ssd300.{fmt}.pth"
        torch.save(sd, path, _use_new_zipfile_serialization=new)
        check_loads(path, sd)
    print(f"torchvision-ssd300: {sum(v.numel() for v in sd.values())} parameters, loc {list(loc.shape)}, conf {list(conf.shape)}")
    for p in sorted(OUT_DIR.iterdir()):
        print(f"  {p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    sys.exit(main())
