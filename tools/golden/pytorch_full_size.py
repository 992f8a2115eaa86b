#!/usr/bin/python3
"""Full-size PyTorch SSDs for the opt-in test of tests/convert/pytorch-full-size.test.ts (too big
to commit: 100-140 MB each). Writes into OUT_DIR (the first argument):

  ssd300-voc.legacy.pth        ssd.pytorch's SSD300, 21 VOC classes, width 1, random weights,
                               the legacy format (as ssd.pytorch's published weights are)
  torchvision-ssd300.zip.pth   the real torchvision ssd300_vgg16(weights=None, weights_backbone=None),
                               91 COCO classes, torchvision's own initialisation, zip format
  <name>.heads.f32             PyTorch's loc then conf on the fixed input, every value, float32 LE
  <name>.json                  shapes

Run: /usr/bin/python3 tools/golden/pytorch_full_size.py /tmp/dir   (Debian python3-torch, python3-torchvision)
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pytorch_checkpoints import SsdPytorch, fixed_input, randomise, torchvision_heads  # noqa: E402


def write(out, name, loc, conf):
    flat = np.concatenate([loc.numpy().ravel(), conf.numpy().ravel()]).astype("<f4")
    (out / f"{name}.heads.f32").write_bytes(flat.tobytes())
    (out / f"{name}.json").write_text(json.dumps({"locShape": list(loc.shape), "confShape": list(conf.shape)}))


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(300)
    net = randomise(SsdPytorch(300, 21, 1.0)).eval()
    with torch.no_grad():
        loc, conf = net(fixed_input(300))
    torch.save(net.state_dict(), out / "ssd300-voc.legacy.pth", _use_new_zipfile_serialization=False)
    write(out, "ssd300-voc", loc, conf)
    torch.manual_seed(91)
    model = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None).eval()
    loc, conf = torchvision_heads(model, fixed_input(300))
    torch.save(model.state_dict(), out / "torchvision-ssd300.zip.pth")
    write(out, "torchvision-ssd300", loc, conf)


if __name__ == "__main__":
    main()
