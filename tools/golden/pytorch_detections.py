#!/usr/bin/python3
"""Golden end-to-end detections for `ssd-edge convert ckpt.pth`: margin-searched checkpoints and
what each original framework's own detection code returns for them on one fixed image.

pytorch_checkpoints.py's random narrow checkpoints check the converted heads, but their scores
saturate (hundreds of detections within 2e-4 of 1), so detections computed from them hinge on
float32 rounding. Here each network (same re-declarations, same narrow width) gets its class
head sharpened until a handful of boxes score clearly above the rest on the test image:

1. seeded random weights (pytorch_checkpoints.randomise), rounded to float16 (the file's storage);
2. the class head's convolutions × a power of two and the background bias + a shift, searched
   per seed on the head outputs, until every margin below holds;
3. the edited network re-run from scratch through the framework's own code; the margins are
   measured again on that run (they are what the JSON records) and asserted.

Margins (all asserted, recorded under "margins"):
  - every foreground probability is at least MIN_THRESHOLD_GAP (relative) away from the 0.01
    score threshold;
  - within each class, the candidates' scores differ pairwise by at least MIN_SCORE_GAP
    (relative), and so do consecutive detections of the output (its order across classes);
  - the IoU of every pair of same-class candidates is at least MIN_IOU_GAP away from 0.45;
  - every candidate's box has a positive area, and its size offsets stay below ssd-edge's exp
    clamp (log(1000/16) after the variance or weight);
  - the output has between COUNT_RANGE detections, in at least two classes.

The frameworks' own code:
  torchvision-ssd300  the real torchvision SSD (eval): model([to_tensor(image)]), i.e.
                      GeneralizedRCNNTransform (normalise, resize to 300x300: a copy at that size,
                      asserted), backbone, head, postprocess_detections, transform.postprocess.
                      Boxes in the image's pixels.
  ssd300-voc,         ssd.pytorch's test phase: BaseTransform's rule (image − (104, 117, 123) on
  ssd512-voc          BGR, then to RGB: R − 123, G − 117, B − 104; its cv2.resize to the network
                      size copies an image of that size, so it is left out), the train-phase heads, nn.Softmax(dim=-1), and Detect(classes,
                      0, 200, 0.01, 0.45) with variance [0.1, 0.2]: existing_models.py's re-typing
                      of layers/functions/detection.py and layers/box_utils.py. Priors: the
                      fixtures tests/fixtures/priors/ssd300Voc.f32 / ssd512Voc.f32 (PriorBox).
                      Boxes normalised, as Detect returns them.

The image: pixel[y, x, c] = (c·59 + y²·3 + x·17 + x·y) mod 255, RGB, at the network's size (no
resize anywhere); the test computes the same pixels (checked by their SHA-256).

Writes (tests/fixtures/pytorch/README.md describes them):
  <arch>.margin.pth          torch.save(sd) of the float16 state dict (zip format)
  <arch>.margin.json         the framework's detections, the margins, the search's choice

Run:  apt-get install python3-torch python3-torchvision   (Debian; nothing downloaded)
      /usr/bin/python3 tools/golden/pytorch_detections.py
The output is the same on every run (seeded; single-threaded torch).
"""

import hashlib
import math
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import existing_models as em  # noqa: E402  (ssd.pytorch's re-typed Detect; JSON helpers)
import pytorch_checkpoints as pc  # noqa: E402  (the re-declared networks and their init)

ROOT = pc.ROOT
OUT_DIR = pc.OUT_DIR
SCORE_THRESH, NMS_THRESH, TOP_K = 0.01, 0.45, 200

MIN_THRESHOLD_GAP = 0.05
MIN_SCORE_GAP = 1e-3
MIN_IOU_GAP = 0.01
COUNT_RANGE = (6, 30)
EXP_CLAMP = math.log(1000.0 / 16)
SCALES = [2, 4, 8, 16]

torch.set_num_threads(1)


def pattern_image(size):
    """RGB uint8 [size, size, 3]; tests/convert/pytorch-e2e.test.ts computes the same pixels."""
    y, x, c = np.meshgrid(np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    return ((c * 59 + y * y * 3 + x * 17 + x * y) % 255).astype(np.uint8)


def round_to_half(model):
    with torch.no_grad():
        for v in model.state_dict().values():
            v.copy_(v.half().float())
    return model


def sharpen(convs, num_classes, scale, shift):
    """Class-head convolutions × scale, background bias + shift: logits' = scale·logits + shift·[k = 0]."""
    with torch.no_grad():
        for conv in convs:
            conv.weight.mul_(scale)
            conv.bias.mul_(scale)
            conv.bias.view(-1, num_classes)[:, 0] += shift


# ===========================================================================
# The networks and their frameworks' detection code
# ===========================================================================
class TorchvisionNet:
    arch, size, classes, seed0 = "torchvision-ssd300", 300, pc.TORCHVISION_CLASSES, 91
    box_units = "pixels"

    def build(self, seed):
        torch.manual_seed(seed)
        return round_to_half(pc.randomise(pc.torchvision_ssd(pc.WIDTH, self.classes)))

    def class_convs(self, model):
        return model.head.classification_head.module_list

    def run(self, model, rgb):
        x = em.image_tensor(rgb)
        dets, taps = em.run_with_taps(model, x)
        mean = torch.as_tensor(model.transform.image_mean, dtype=torch.float32)[:, None, None]
        std = torch.as_tensor(model.transform.image_std, dtype=torch.float32)[:, None, None]
        assert torch.equal(taps["input"][0], (x - mean) / std), "GeneralizedRCNNTransform resized a 300x300 image"
        loc, logits = taps["head"]["bbox_regression"][0], taps["head"]["cls_logits"][0]
        boxes = clip_boxes_to_image(model.box_coder.decode_single(loc, taps["anchors"]), (self.size, self.size))
        rows = [{"classId": int(label), "score": float(score), "box": [float(v) for v in box]}
                for label, score, box in zip(dets["labels"], dets["scores"], dets["boxes"])]
        # offsets as the box coder scales them before exp: dw / 5, dh / 5
        return rows, torch.softmax(logits, -1), boxes, loc[:, 2:] / 5.0

    def screen(self, model, rgb):
        """Head outputs and boxes for the search (the logits are edited arithmetically there)."""
        _, taps = em.run_with_taps(model, em.image_tensor(rgb))
        loc, logits = taps["head"]["bbox_regression"][0], taps["head"]["cls_logits"][0]
        boxes = clip_boxes_to_image(model.box_coder.decode_single(loc, taps["anchors"]), (self.size, self.size))
        return logits, boxes, loc[:, 2:] / 5.0

    def describe(self, model):
        return {"call": "model([to_tensor(image)]) in eval mode (torchvision %s): GeneralizedRCNNTransform, "
                        "backbone, head, SSD.postprocess_detections, transform.postprocess" % torchvision.__version__,
                "scoreThresh": model.score_thresh, "nmsThresh": model.nms_thresh,
                "topkCandidates": model.topk_candidates, "detectionsPerImg": model.detections_per_img,
                "boxCoderWeights": list(model.box_coder.weights)}


class SsdPytorchNet:
    box_units = "normalised"

    def __init__(self, size):
        self.size, self.arch, self.seed0 = size, "ssd%d-voc" % size, size
        self.classes = pc.SSD_PYTORCH_CLASSES
        priors = ROOT / "tests" / "fixtures" / "priors" / ("ssd%dVoc.f32" % size)
        self.priors_file = priors
        self.priors = torch.from_numpy(np.fromfile(priors, "<f4").reshape(-1, 4).copy())

    def build(self, seed):
        torch.manual_seed(seed)
        return round_to_half(pc.randomise(pc.SsdPytorch(self.size, self.classes, pc.WIDTH)).eval())

    def class_convs(self, model):
        return model.conf

    def tensor(self, rgb):
        """BaseTransform: cv2.resize (a copy at the network size) and − mean on BGR; voc0712 flips to RGB."""
        bgr = rgb[:, :, ::-1].astype(np.float32)
        x = bgr - np.array([104.0, 117.0, 123.0], np.float32)
        return torch.from_numpy(np.ascontiguousarray(x[:, :, (2, 1, 0)])).permute(2, 0, 1)[None].contiguous()

    def forward(self, model, rgb):
        with torch.no_grad():
            loc, conf = model(self.tensor(rgb))
        return loc, conf

    def run(self, model, rgb):
        loc, conf = self.forward(model, rgb)
        rows_raw, probs, _ = em.run_detect(loc, conf, self.priors, self.classes)
        rows = [{"classId": cl, "priorIndex": prior, "score": score, "box": box} for score, prior, cl, box in rows_raw]
        boxes = em.decode(loc[0], self.priors, em.VOC_VARIANCE)
        return rows, probs[0], boxes, loc[0, :, 2:] * em.VOC_VARIANCE[1]

    def screen(self, model, rgb):
        loc, conf = self.forward(model, rgb)
        return conf[0], em.decode(loc[0], self.priors, em.VOC_VARIANCE), loc[0, :, 2:] * em.VOC_VARIANCE[1]

    def describe(self, model):
        return {"call": "ssd.pytorch test phase: nn.Softmax(dim=-1) on the train-phase conf, Detect(%d, 0, 200, 0.01, 0.45)"
                        " (tools/golden/existing_models.py, re-typed from layers/functions/detection.py and "
                        "layers/box_utils.py)" % self.classes,
                "input": "BaseTransform: image - (104, 117, 123) on BGR, flipped to RGB (R-123, G-117, B-104); no resize",
                "priors": em.rel(self.priors_file), "variance": em.VOC_VARIANCE,
                "scoreThresh": SCORE_THRESH, "nmsThresh": NMS_THRESH, "topK": TOP_K}


# ===========================================================================
# Margins
# ===========================================================================
def margins(probs, boxes, size_offsets, rows):
    """How far the detections are from every decision that could flip them (see the module doc)."""
    fg = probs[:, 1:].double()
    candidates = fg > SCORE_THRESH
    threshold_gap = float(((fg - SCORE_THRESH).abs() / SCORE_THRESH).min())
    score_gap, iou_gap, per_class, min_area = math.inf, math.inf, [], math.inf
    for k in range(fg.shape[1]):
        idx = candidates[:, k].nonzero()[:, 0]
        per_class.append(int(idx.numel()))
        if idx.numel() == 0:
            continue
        s = fg[idx, k].sort(descending=True).values
        if s.numel() > 1:
            score_gap = min(score_gap, float(((s[:-1] - s[1:]) / s[:-1]).min()))
        b = boxes[idx].double()
        min_area = min(min_area, float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).min()))
        if idx.numel() > 1:
            iou = box_iou(b, b)
            off = ~torch.eye(idx.numel(), dtype=torch.bool)
            iou_gap = min(iou_gap, float((iou[off] - NMS_THRESH).abs().min()))
    scores = [r["score"] for r in rows]
    output_gap = min(((a - b) / a for a, b in zip(scores, scores[1:])), default=math.inf)
    any_candidate = candidates.any(1)
    return OrderedDict([
        ("candidatesPerClass", per_class),
        ("detections", len(rows)),
        ("classes", sorted({r["classId"] for r in rows})),
        ("scoreRange", [em.f9(min(scores, default=0)), em.f9(max(scores, default=0))]),
        ("minRelativeDistanceToScoreThreshold", threshold_gap),
        ("minRelativeScoreGapWithinClass", score_gap),
        ("minRelativeScoreGapInOutput", output_gap),
        ("minIouDistanceToNmsThreshold", iou_gap),
        ("minCandidateBoxArea", min_area),
        ("maxCandidateSizeOffset", float(size_offsets[any_candidate].abs().max()) if any_candidate.any() else 0.0),
        ("expClamp", EXP_CLAMP),
    ])


def clears(m):
    return (m["minRelativeDistanceToScoreThreshold"] >= MIN_THRESHOLD_GAP
            and m["minRelativeScoreGapWithinClass"] >= MIN_SCORE_GAP
            and m["minRelativeScoreGapInOutput"] >= MIN_SCORE_GAP
            and m["minIouDistanceToNmsThreshold"] >= MIN_IOU_GAP
            and m["minCandidateBoxArea"] > 0
            and m["maxCandidateSizeOffset"] < EXP_CLAMP
            and COUNT_RANGE[0] <= m["detections"] <= COUNT_RANGE[1]
            and len(m["classes"]) >= 2)


def screen_rows(probs, boxes):
    """A stand-in post-processing for the search only (the golden comes from the framework's own)."""
    fg = probs[:, 1:]
    idx, k = (fg > SCORE_THRESH).nonzero(as_tuple=True)
    scores = fg[idx, k]
    keep = batched_nms(boxes[idx].float(), scores.float(), k, NMS_THRESH)
    return [{"classId": int(k[i]) + 1, "score": float(scores[i])} for i in keep]


def search(net, rgb, seeds=40):
    """The first (seed, scale, shift) whose edited logits clear every margin, re-checked on the real run."""
    for seed in range(net.seed0, net.seed0 + seeds):
        model = net.build(seed)
        logits, boxes, size_offsets = net.screen(model, rgb)
        for scale in SCALES:
            # the shift that leaves about 2–4 candidates a class, then its neighbours
            d = (scale * (logits[:, 1:] - logits[:, :1])).flatten().sort(descending=True).values
            centre = float(d[3 * (net.classes - 1)]) - math.log(SCORE_THRESH)
            for step in (0, 1, -1, 2, -2, 3, -3, 4, -4):
                shift = round((centre + 0.5 * step) * 4) / 4
                edited = scale * logits
                edited[:, 0] += shift
                probs = torch.softmax(edited.double(), -1)
                rows = screen_rows(probs, boxes)
                if not clears(margins(probs, boxes, size_offsets, rows)):
                    continue
                final = net.build(seed)
                sharpen(net.class_convs(final), net.classes, scale, shift)
                round_to_half(final)
                rows, probs, real_boxes, real_offsets = net.run(final, rgb)
                m = margins(probs, real_boxes, real_offsets, rows)
                if clears(m):
                    return final, rows, m, {"seed": seed, "classHeadScale": scale, "backgroundShift": shift}
    raise SystemExit("%s: no seed in %d clears the margins" % (net.arch, seeds))


# ===========================================================================
# Writing
# ===========================================================================
def write(net, model, rgb, rows, m, choice):
    sd = OrderedDict((k, v.half()) for k, v in model.state_dict().items())
    path = OUT_DIR / ("%s.margin.pth" % net.arch)
    torch.save(sd, path)
    pc.check_loads(path, sd)
    golden = OrderedDict()
    golden["source"] = "tools/golden/pytorch_detections.py; torch %s, torchvision %s" % (torch.__version__, torchvision.__version__)
    golden["checkpoint"] = path.name
    golden["arch"] = net.arch
    golden["image"] = {"rule": "pixel[y, x, c] = (c*59 + y*y*3 + x*17 + x*y) % 255, RGB uint8",
                       "width": net.size, "height": net.size,
                       "sha256OfRgbPixels": hashlib.sha256(rgb.tobytes()).hexdigest()}
    golden["network"] = OrderedDict([("width", "1/32"), ("classes", net.classes), ("storage", "float16"),
                                     ("init", "pytorch_checkpoints.randomise"), *choice.items()])
    golden["framework"] = net.describe(model)
    golden["margins"] = m
    golden["boxUnits"] = net.box_units
    golden["count"] = len(rows)
    golden["detections"] = [OrderedDict((k, em.f9(v) if k == "score" else [em.f9(x) for x in v] if k == "box" else v)
                                        for k, v in r.items()) for r in rows]
    em.write_json(OUT_DIR / ("%s.margin.json" % net.arch), golden)
    print("   %s: %s; %d detections in classes %s, scores %s; margins %s" % (
        net.arch, choice, len(rows), m["classes"], m["scoreRange"],
        {k: ("%.3g" % v if isinstance(v, float) else v) for k, v in m.items() if k.startswith("min")}))


def main():
    for net in (TorchvisionNet(), SsdPytorchNet(300), SsdPytorchNet(512)):
        rgb = pattern_image(net.size)
        model, rows, m, choice = search(net, rgb)
        # the run is reproducible: a fresh build with the chosen edit gives the same detections
        again = net.build(choice["seed"])
        sharpen(net.class_convs(again), net.classes, choice["classHeadScale"], choice["backgroundShift"])
        round_to_half(again)
        assert net.run(again, rgb)[0] == rows
        write(net, model, rgb, rows, m, choice)


if __name__ == "__main__":
    sys.exit(main())
