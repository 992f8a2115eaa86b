#!/usr/bin/python3
"""Golden prior (default box / anchor) fixtures for ssd-edge's tests.

Every family is produced by Python code that shares nothing with our TypeScript:
the real torchvision from Debian, or a line-by-line re-typing of the upstream
generator (each function names the upstream file it was ported from).

Writes, relative to the repository root:
  tests/fixtures/priors/<name>.f32      little-endian float32 rows (cx, cy, w, h),
                                        normalised, in the family's native order
  tests/fixtures/priors/manifest.json   [{ name, file, count, source, config }]
where `config` is a PriorConfig (src/core/types.ts) describing the same priors.

Run:  apt-get install python3-torch python3-torchvision python3-numpy
      /usr/bin/python3 tools/golden/priors.py
"""

import json
import math
from itertools import product
from math import sqrt
from pathlib import Path

import numpy as np
import torch
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "fixtures" / "priors"

f32 = np.float32
f64 = np.float64


# ---------------------------------------------------------------------------
# ssd.pytorch
# Re-typed from amdegroot/ssd.pytorch layers/functions/prior_box.py,
# PriorBox.forward (master's single loop; older revisions called it 'v2'). Config keys as in
# data/config.py. Python float64 arithmetic, then torch.Tensor (float32), then
# an in-place clamp of all four columns.
# ---------------------------------------------------------------------------
def ssd_pytorch_prior_box(cfg):
    image_size = cfg["min_dim"]
    mean = []
    for k, f in enumerate(cfg["feature_maps"]):
        for i, j in product(range(f), repeat=2):
            f_k = image_size / cfg["steps"][k]
            # unit center x,y
            cx = (j + 0.5) / f_k
            cy = (i + 0.5) / f_k

            # aspect_ratio: 1
            # rel size: min_size
            s_k = cfg["min_sizes"][k] / image_size
            mean += [cx, cy, s_k, s_k]

            # aspect_ratio: 1
            # rel size: sqrt(s_k * s_(k+1))
            s_k_prime = sqrt(s_k * (cfg["max_sizes"][k] / image_size))
            mean += [cx, cy, s_k_prime, s_k_prime]

            # rest of aspect ratios
            for ar in cfg["aspect_ratios"][k]:
                mean += [cx, cy, s_k * sqrt(ar), s_k / sqrt(ar)]
                mean += [cx, cy, s_k / sqrt(ar), s_k * sqrt(ar)]
    # back to torch land
    output = torch.Tensor(mean).view(-1, 4)
    if cfg["clip"]:
        output.clamp_(max=1, min=0)
    return output.numpy()


# ---------------------------------------------------------------------------
# torchvision
# Runs the REAL torchvision.models.detection.anchor_utils.DefaultBoxGenerator
# (Debian python3-torchvision). `_grid_default_boxes` returns the normalised
# (cx, cy, w, h) boxes; `forward` only converts them to pixel xyxy, which is
# checked here so the two entry points cannot disagree.
# ---------------------------------------------------------------------------
def torchvision_default_boxes(aspect_ratios, scales, steps, feature_maps, image_size, clip=True):
    gen = DefaultBoxGenerator(aspect_ratios, scales=scales, steps=steps, clip=clip)
    grid_sizes = [[f, f] for f in feature_maps]
    boxes = gen._grid_default_boxes(grid_sizes, [image_size, image_size], dtype=torch.float32)

    images = ImageList(torch.zeros(1, 3, image_size, image_size), [(image_size, image_size)])
    features = [torch.zeros(1, 1, f, f) for f in feature_maps]
    xyxy = gen(images, features)[0]
    size = torch.tensor([image_size, image_size])
    expected = torch.cat([(boxes[:, :2] - 0.5 * boxes[:, 2:]) * size,
                          (boxes[:, :2] + 0.5 * boxes[:, 2:]) * size], -1)
    assert torch.equal(xyxy, expected), "DefaultBoxGenerator.forward disagrees with _grid_default_boxes"
    return boxes.numpy()


# ---------------------------------------------------------------------------
# TensorFlow Object Detection API
# Ported from tensorflow/models research/object_detection/:
#   anchor_generators/multiple_grid_anchor_generator.py  (create_ssd_anchors,
#                                                         MultipleGridAnchorGenerator._generate)
#   anchor_generators/grid_anchor_generator.py           (tile_anchors,
#                                                         _center_size_bbox_to_corners_bbox)
#   utils/ops.py                                          (meshgrid)
#   core/box_list.py                                      (get_center_coordinates_and_sizes)
# Python float64 where TF uses Python, numpy float32 where TF uses tf.float32.
# ---------------------------------------------------------------------------
def tf_create_ssd_anchors_box_specs(num_layers=6, min_scale=0.2, max_scale=0.95, scales=None,
                                    aspect_ratios=(1.0, 2.0, 3.0, 1.0 / 2, 1.0 / 3),
                                    interpolated_scale_aspect_ratio=1.0,
                                    reduce_boxes_in_lowest_layer=True):
    """create_ssd_anchors: the list of (scale, aspect ratio) pairs per layer."""
    box_specs_list = []
    if scales is None or not scales:
        scales = [min_scale + (max_scale - min_scale) * i / (num_layers - 1)
                  for i in range(num_layers)] + [1.0]
    else:
        scales = list(scales) + [1.0]

    for layer, scale, scale_next in zip(range(num_layers), scales[:-1], scales[1:]):
        layer_box_specs = []
        if layer == 0 and reduce_boxes_in_lowest_layer:
            layer_box_specs = [(0.1, 1.0), (scale, 2.0), (scale, 0.5)]
        else:
            for aspect_ratio in aspect_ratios:
                layer_box_specs.append((scale, aspect_ratio))
            if interpolated_scale_aspect_ratio > 0.0:
                layer_box_specs.append((np.sqrt(scale * scale_next),
                                        interpolated_scale_aspect_ratio))
        box_specs_list.append(layer_box_specs)
    return box_specs_list


def tf_meshgrid(x, y):
    """ops.meshgrid: xgrid[i..., j...] = x[j...], ygrid[i..., j...] = y[i...]."""
    x = np.asarray(x)
    y = np.asarray(y)
    shape = y.shape + x.shape
    xgrid = np.broadcast_to(x.reshape((1,) * y.ndim + x.shape), shape)
    ygrid = np.broadcast_to(y.reshape(y.shape + (1,) * x.ndim), shape)
    return xgrid, ygrid


def tf_tile_anchors(grid_height, grid_width, scales, aspect_ratios, base_anchor_size,
                    anchor_stride, anchor_offset):
    """grid_anchor_generator.tile_anchors: corners (ymin, xmin, ymax, xmax), float32."""
    scales = np.asarray(scales, dtype=f32)
    ratio_sqrts = np.sqrt(np.asarray(aspect_ratios, dtype=f32))
    heights = scales / ratio_sqrts * base_anchor_size[0]
    widths = scales * ratio_sqrts * base_anchor_size[1]

    # Get a grid of box centers
    y_centers = np.arange(grid_height).astype(f32)
    y_centers = y_centers * anchor_stride[0] + anchor_offset[0]
    x_centers = np.arange(grid_width).astype(f32)
    x_centers = x_centers * anchor_stride[1] + anchor_offset[1]
    x_centers, y_centers = tf_meshgrid(x_centers, y_centers)

    widths_grid, x_centers_grid = tf_meshgrid(widths, x_centers)
    heights_grid, y_centers_grid = tf_meshgrid(heights, y_centers)
    bbox_centers = np.stack([y_centers_grid, x_centers_grid], axis=3).reshape(-1, 2)
    bbox_sizes = np.stack([heights_grid, widths_grid], axis=3).reshape(-1, 2)
    # _center_size_bbox_to_corners_bbox
    half = f32(0.5)
    return np.concatenate([bbox_centers - half * bbox_sizes, bbox_centers + half * bbox_sizes], 1)


def tf_multiple_grid_anchors(box_specs_list, feature_map_shape_list, im_height=1, im_width=1,
                             base_anchor_size=(1.0, 1.0), anchor_strides=None, anchor_offsets=None):
    """MultipleGridAnchorGenerator._generate without a clip window (create_ssd_anchors sets
    none), the per-layer BoxLists concatenated as SSDMetaArch does. create_ssd_anchors passes
    base_anchor_size [1, 1]; strides/offsets (pixels) default to 1/grid and half a stride."""
    im_height = f32(im_height)
    im_width = f32(im_width)
    if not anchor_strides:
        anchor_strides = [(f32(1.0) / f32(h), f32(1.0) / f32(w)) for h, w in feature_map_shape_list]
    else:
        anchor_strides = [(f32(sy) / im_height, f32(sx) / im_width) for sy, sx in anchor_strides]
    if not anchor_offsets:
        anchor_offsets = [(f32(0.5) * sy, f32(0.5) * sx) for sy, sx in anchor_strides]
    else:
        anchor_offsets = [(f32(oy) / im_height, f32(ox) / im_width) for oy, ox in anchor_offsets]
    min_im_shape = min(im_height, im_width)
    scale_height = min_im_shape / im_height
    scale_width = min_im_shape / im_width
    base = (scale_height * f32(base_anchor_size[0]), scale_width * f32(base_anchor_size[1]))
    layers = []
    for (h, w), specs, stride, offset in zip(feature_map_shape_list, box_specs_list,
                                            anchor_strides, anchor_offsets):
        scales, aspect_ratios = zip(*specs)
        layers.append(tf_tile_anchors(h, w, scales, aspect_ratios, base, stride, offset))
    return np.concatenate(layers, 0)


def tf_center_size(corners):
    """BoxList.get_center_coordinates_and_sizes (how TF's box coder and the TFLite
    export read anchors), reordered to (cx, cy, w, h)."""
    ymin, xmin, ymax, xmax = corners.T
    width = xmax - xmin
    height = ymax - ymin
    ycenter = ymin + height / f32(2.0)
    xcenter = xmin + width / f32(2.0)
    return np.stack([xcenter, ycenter, width, height], axis=1)


# ---------------------------------------------------------------------------
# MediaPipe
# Ported from google/mediapipe mediapipe/calculators/tflite/ssd_anchors_calculator.cc
# (SsdAnchorsCalculator::GenerateAnchors and CalculateScale; the multiscale
# branch is not ported). Proto float fields are float32; C++ float/double
# promotion is followed expression by expression.
# ---------------------------------------------------------------------------
def mediapipe_calculate_scale(min_scale, max_scale, stride_index, num_strides):
    if num_strides == 1:
        return f32((min_scale + max_scale) * f32(0.5))
    # float + (float * 1.0 [double] * int / float) -> double, returned as float
    return f32(f64(min_scale) + f64(max_scale - min_scale) * 1.0 * stride_index
               / f64(f32(num_strides) - f32(1.0)))


def mediapipe_ssd_anchors(num_layers, min_scale, max_scale, input_size_height, input_size_width,
                          strides, aspect_ratios, anchor_offset_x=0.5, anchor_offset_y=0.5,
                          interpolated_scale_aspect_ratio=1.0, reduce_boxes_in_lowest_layer=False,
                          fixed_anchor_size=False):
    min_scale, max_scale = f32(min_scale), f32(max_scale)
    anchor_offset_x, anchor_offset_y = f32(anchor_offset_x), f32(anchor_offset_y)
    aspect_ratios = [f32(a) for a in aspect_ratios]
    interpolated_scale_aspect_ratio = f32(interpolated_scale_aspect_ratio)
    strides_size = len(strides)
    anchors = []
    layer_id = 0
    while layer_id < num_layers:
        anchor_height, anchor_width, ratios, scales = [], [], [], []
        # For same strides, we merge the anchors in the same order.
        last_same_stride_layer = layer_id
        while (last_same_stride_layer < strides_size
               and strides[last_same_stride_layer] == strides[layer_id]):
            scale = mediapipe_calculate_scale(min_scale, max_scale, last_same_stride_layer,
                                              strides_size)
            if last_same_stride_layer == 0 and reduce_boxes_in_lowest_layer:
                ratios += [f32(1.0), f32(2.0), f32(0.5)]
                scales += [f32(0.1), scale, scale]
            else:
                for aspect_ratio in aspect_ratios:
                    ratios.append(aspect_ratio)
                    scales.append(scale)
                if interpolated_scale_aspect_ratio > 0.0:
                    scale_next = (f32(1.0) if last_same_stride_layer == strides_size - 1
                                  else mediapipe_calculate_scale(min_scale, max_scale,
                                                                 last_same_stride_layer + 1,
                                                                 strides_size))
                    scales.append(np.sqrt(f32(scale * scale_next)))
                    ratios.append(interpolated_scale_aspect_ratio)
            last_same_stride_layer += 1

        for ratio, scale in zip(ratios, scales):
            ratio_sqrts = np.sqrt(ratio)
            anchor_height.append(f32(scale / ratio_sqrts))
            anchor_width.append(f32(scale * ratio_sqrts))

        stride = strides[layer_id]
        feature_map_height = int(math.ceil(f32(1.0) * f32(input_size_height) / f32(stride)))
        feature_map_width = int(math.ceil(f32(1.0) * f32(input_size_width) / f32(stride)))

        for y in range(feature_map_height):
            for x in range(feature_map_width):
                for anchor_id in range(len(anchor_height)):
                    x_center = f32(f32(x) + anchor_offset_x) * f32(1.0) / f32(feature_map_width)
                    y_center = f32(f32(y) + anchor_offset_y) * f32(1.0) / f32(feature_map_height)
                    if fixed_anchor_size:
                        w, h = f32(1.0), f32(1.0)
                    else:
                        w, h = anchor_width[anchor_id], anchor_height[anchor_id]
                    anchors.append((x_center, y_center, w, h))
        layer_id = last_same_stride_layer
    return np.asarray(anchors, dtype=f32)


# ---------------------------------------------------------------------------
# MediaPipe golden anchor files
# google/mediapipe mediapipe/calculators/tflite/testdata/anchor_golden_file_{0,1}.txt,
# used by ssd_anchors_calculator_test.cc (tolerance 1e-5). One row per anchor,
# "x_center y_center w h", C++ stream default formatting (= printf %g, 6
# significant digits). The files are not vendored here: each is rebuilt from a
# port above, printed the same way, and checked against facts recorded from the
# upstream file when this script was written (its exact length, and the few rows
# where upstream differs from the port).
# ---------------------------------------------------------------------------
def golden_text(rows, newline="\n"):
    return "".join("%g %g %g %g%s" % (*(float(v) for v in row), newline) for row in rows)


def parse_golden_text(text):
    return np.asarray([[float(v) for v in line.split()] for line in text.splitlines()], dtype=f32)


# FaceDetectionConfig (BlazeFace back camera, 256x256). Upstream: 65152 characters,
# CRLF line ends; identical to the MediaPipe port printed with %g (values are dyadic).
GOLDEN_0_OPTIONS = dict(num_layers=5, min_scale=0.1171875, max_scale=0.75, input_size_height=256,
                        input_size_width=256, anchor_offset_x=0.5, anchor_offset_y=0.5,
                        strides=[8, 16, 32, 32, 32], aspect_ratios=[1.0], fixed_anchor_size=True)
GOLDEN_0_CHARS = 65152

# MobileSSDConfig (SSD MobileNet v1, 300x300). Upstream: 56774 characters, LF. The
# file was evidently produced by TensorFlow, not by the calculator: it prints the
# TF centres (0.81579, where the calculator gives 0.815789) and TF's corner round
# trip (width 0.202063 only in the last column of the 10x10 layer). The TF port
# printed with %g reproduces it except these rows (2x2 layer, ratio-0.5 width,
# one float32 ulp apart), replaced here by the upstream text:
GOLDEN_1_OPTIONS = dict(num_layers=6, min_scale=0.2, max_scale=0.95, input_size_height=300,
                        input_size_width=300, anchor_offset_x=0.5, anchor_offset_y=0.5,
                        strides=[16, 32, 64, 128, 256, 512],
                        aspect_ratios=[1.0, 2.0, 0.5, 3.0, 0.3333],
                        reduce_boxes_in_lowest_layer=True)
GOLDEN_1_CHARS = 56774
GOLDEN_1_UPSTREAM_ROWS = {
    1889: "0.25 0.25 0.565685 1.13137",
    1895: "0.75 0.25 0.565685 1.13137",
    1901: "0.25 0.75 0.565685 1.13137",
    1907: "0.75 0.75 0.565685 1.13137",
}


def golden_file_0():
    text = golden_text(mediapipe_ssd_anchors(**GOLDEN_0_OPTIONS), newline="\r\n")
    assert len(text) == GOLDEN_0_CHARS, len(text)
    return parse_golden_text(text)


def golden_file_1(tf_rows):
    lines = golden_text(tf_rows).splitlines()
    for index, upstream in GOLDEN_1_UPSTREAM_ROWS.items():
        assert abs(parse_golden_text(lines[index]) - parse_golden_text(upstream)).max() < 2e-6
        lines[index] = upstream
    text = "".join(line + "\n" for line in lines)
    assert len(text) == GOLDEN_1_CHARS, len(text)
    return parse_golden_text(text)


# ---------------------------------------------------------------------------
# Self-checks of the ports against values published upstream
# ---------------------------------------------------------------------------
def check_tf_port():
    """Expectations from tensorflow/models research/object_detection/anchor_generators/
    multiple_grid_anchor_generator_test.py (assertAllClose)."""
    def close(got, want):
        assert np.allclose(got, np.asarray(want, dtype=np.float64), rtol=1e-6, atol=1e-6), got

    specs = [[(.5, .25), (1.0, .25), (2.0, .25), (.5, 1.0), (1.0, 1.0), (2.0, 1.0),
              (.5, 4.0), (1.0, 4.0), (2.0, 4.0)]]
    close(tf_multiple_grid_anchors(specs, [(1, 1)], base_anchor_size=(256, 256),
                                   anchor_strides=[(16, 16)], anchor_offsets=[(7, -3)]),
          [[-121, -35, 135, 29], [-249, -67, 263, 61], [-505, -131, 519, 125],
           [-57, -67, 71, 61], [-121, -131, 135, 125], [-249, -259, 263, 253],
           [-25, -131, 39, 125], [-57, -259, 71, 253], [-121, -515, 135, 509]])
    close(tf_multiple_grid_anchors([[(0.5, 1.0), (1.0, 1.0), (2.0, 1.0)]], [(2, 2)],
                                   base_anchor_size=(10, 10), anchor_strides=[(19, 19)],
                                   anchor_offsets=[(0, 0)]),
          [[-2.5, -2.5, 2.5, 2.5], [-5., -5., 5., 5.], [-10., -10., 10., 10.],
           [-2.5, 16.5, 2.5, 21.5], [-5., 14., 5, 24], [-10., 9., 10, 29],
           [16.5, -2.5, 21.5, 2.5], [14., -5., 24, 5], [9., -10., 29, 10],
           [16.5, 16.5, 21.5, 21.5], [14., 14., 24, 24], [9., 9., 29, 29]])
    close(tf_multiple_grid_anchors([[(1.0, 1.0)]], [(1, 2)]),
          [[0., -0.25, 1., 0.75], [0., 0.25, 1., 1.25]])
    close(tf_multiple_grid_anchors([[(1.0, 1.0)]], [(1, 2)], im_height=320, im_width=640),
          [[0., 0., 1., 0.5], [0., 0.5, 1., 1.]])
    h, w = np.sqrt(2), 1.0 / np.sqrt(2)
    out = tf_multiple_grid_anchors([[(1.0, 1.0), (2.0, 1.0), (1.0, 0.5)], [(1.0, 1.0), (1.0, 0.5)]],
                                   [(4, 4), (2, 2)], anchor_strides=[(.25, .25), (.5, .5)],
                                   anchor_offsets=[(.125, .125), (.25, .25)])
    assert out.shape == (56, 4)
    close(out[48:], [[-.25, -.25, .75, .75], [.25 - .5 * h, .25 - .5 * w, .25 + .5 * h, .25 + .5 * w],
                     [-.25, .25, .75, 1.25], [.25 - .5 * h, .75 - .5 * w, .25 + .5 * h, .75 + .5 * w],
                     [.25, -.25, 1.25, .75], [.75 - .5 * h, .25 - .5 * w, .75 + .5 * h, .25 + .5 * w],
                     [.25, .25, 1.25, 1.25], [.75 - .5 * h, .75 - .5 * w, .75 + .5 * h, .75 + .5 * w]])
    close(out[0:3], [[.125 - .5, .125 - .5, .125 + .5, .125 + .5],
                     [.125 - 1.0, .125 - 1.0, .125 + 1.0, .125 + 1.0],
                     [.125 - .5 * h, .125 - .5 * w, .125 + .5 * h, .125 + .5 * w]])
    grids = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
    for reduce, count in ((True, 7308), (False, 11640)):
        specs = tf_create_ssd_anchors_box_specs(aspect_ratios=(1.0, 2.0, 3.0, 1.0 / 2, 1.0 / 3),
                                                reduce_boxes_in_lowest_layer=reduce)
        assert tf_multiple_grid_anchors(specs, grids).shape == (count, 4)


def check_mediapipe_port(blazeface_rows):
    """First ten BlazeFace anchors as printed in hollance/BlazeFace-PyTorch Anchors.ipynb."""
    xs = [0.03125, 0.03125, 0.09375, 0.09375, 0.15625, 0.15625, 0.21875, 0.21875, 0.28125, 0.28125]
    assert np.array_equal(blazeface_rows[:10], [[x, 0.03125, 1.0, 1.0] for x in xs])


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
SSD300_VOC = {  # amdegroot/ssd.pytorch data/config.py `voc`
    "feature_maps": [38, 19, 10, 5, 3, 1],
    "min_dim": 300,
    "steps": [8, 16, 32, 64, 100, 300],
    "min_sizes": [30, 60, 111, 162, 213, 264],
    "max_sizes": [60, 111, 162, 213, 264, 315],
    "aspect_ratios": [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    "clip": True,
}

SSD512_VOC = {  # Caffe SSD ssd_pascal_512.py sizes (7% / 15% for conv4_3, then 15..90% step 15),
    # as published in chainercv links/model/ssd/ssd_vgg16.py SSD512 and ssd.pytorch forks
    "feature_maps": [64, 32, 16, 8, 4, 2, 1],
    "min_dim": 512,
    "steps": [8, 16, 32, 64, 128, 256, 512],
    "min_sizes": [35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8],
    "max_sizes": [76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6],
    "aspect_ratios": [[2], [2, 3], [2, 3], [2, 3], [2, 3], [2], [2]],
    "clip": True,
}

TORCHVISION_SSD300 = dict(  # torchvision models/detection/ssd.py ssd300_vgg16
    aspect_ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
    steps=[8, 16, 32, 64, 100, 300],
    feature_maps=[38, 19, 10, 5, 3, 1],
    image_size=300,
)

TF_SSD_MOBILENET_V1 = dict(  # ssd_mobilenet_v1_coco pipeline.config ssd_anchor_generator
    num_layers=6, min_scale=0.2, max_scale=0.95, aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
    interpolated_scale_aspect_ratio=1.0, reduce_boxes_in_lowest_layer=True,
)
TF_SSD_MOBILENET_V1_MAPS = [19, 10, 5, 3, 2, 1]
# SSD(Lite) MobileNet V2 trained at a 192x192 input: the same anchor generator on the feature maps
# that TF's layers give at that size (tf_ssd_mobilenet_v2_maps).
TF_MOBILENET_V2_192 = 192


def tf_same(size, stride):
    """tf.nn.conv2d / depthwise_conv2d with padding 'SAME': out = ceil(in / stride)."""
    return -(-size // stride)


# research/slim/nets/mobilenet/mobilenet_v2.py V2_DEF: the stem conv (stride 2), then the
# expanded_conv stages as (repeats n, first stride s).
MOBILENET_V2_STAGES = [(1, 1), (2, 2), (3, 2), (4, 2), (3, 1), (3, 2), (1, 1)]


def tf_ssd_mobilenet_v2_maps(size):
    """The six feature maps' sizes of ssd_mobilenet_v2_feature_extractor.py at size x size:
    'layer_15/expansion_output' (block 13's 1x1 expansion, before its stride-2 depthwise),
    'layer_19' (Conv_1, 1x1), then the four 3x3 stride-2 extra layers."""
    n = tf_same(size, 2)  # Conv
    block, maps = 0, []
    for repeats, first_stride in MOBILENET_V2_STAGES:
        for r in range(repeats):
            if block == 13:
                maps.append(n)  # the expansion is 1x1: its map is the block's input map
            n = tf_same(n, first_stride if r == 0 else 1)  # the depthwise layer carries the stride
            block += 1
    maps.append(n)  # Conv_1
    for _ in range(4):
        n = tf_same(n, 2)
        maps.append(n)
    return maps

BLAZEFACE_FRONT = dict(  # face_detection_short_range (front camera) SsdAnchorsCalculatorOptions
    num_layers=4, min_scale=0.1484375, max_scale=0.75, input_size_height=128, input_size_width=128,
    anchor_offset_x=0.5, anchor_offset_y=0.5, strides=[8, 16, 16, 16], aspect_ratios=[1.0],
    fixed_anchor_size=True, interpolated_scale_aspect_ratio=1.0, reduce_boxes_in_lowest_layer=False,
)


def ssd_config(cfg):
    return {
        "family": "ssd",
        "imageSize": cfg["min_dim"],
        "featureMaps": cfg["feature_maps"],
        "steps": cfg["steps"],
        "minSizes": cfg["min_sizes"],
        "maxSizes": cfg["max_sizes"],
        "aspectRatios": cfg["aspect_ratios"],
        "offset": 0.5,
        "clip": cfg["clip"],
    }


def torchvision_config(o):
    return {
        "family": "torchvision",
        "imageSize": o["image_size"],
        "featureMaps": o["feature_maps"],
        "scales": o["scales"],
        "aspectRatios": o["aspect_ratios"],
        "steps": o["steps"],
        "clip": True,
    }


def tf_grid_config(o, maps, image_size=300):
    return {
        "family": "tfGrid",
        "featureMaps": maps,
        "minScale": o["min_scale"],
        "maxScale": o["max_scale"],
        "aspectRatios": list(o["aspect_ratios"]),
        "interpolatedScaleAspectRatio": o["interpolated_scale_aspect_ratio"],
        "reduceBoxesInLowestLayer": o["reduce_boxes_in_lowest_layer"],
        "baseAnchorSize": [1.0, 1.0],
        "imageSize": [image_size, image_size],
        "clip": False,
    }


def mediapipe_config(o):
    return {
        "family": "mediapipe",
        "inputSize": [o["input_size_width"], o["input_size_height"]],
        "numLayers": o["num_layers"],
        "minScale": o["min_scale"],
        "maxScale": o["max_scale"],
        "strides": o["strides"],
        "aspectRatios": o["aspect_ratios"],
        "anchorOffsetX": o.get("anchor_offset_x", 0.5),
        "anchorOffsetY": o.get("anchor_offset_y", 0.5),
        "interpolatedScaleAspectRatio": o.get("interpolated_scale_aspect_ratio", 1.0),
        "reduceBoxesInLowestLayer": o.get("reduce_boxes_in_lowest_layer", False),
        "fixedAnchorSize": o.get("fixed_anchor_size", False),
    }


def tf_ssd_mobilenet_v1_rows(options, maps=TF_SSD_MOBILENET_V1_MAPS, image_size=300):
    specs = tf_create_ssd_anchors_box_specs(**options)
    corners = tf_multiple_grid_anchors(specs, [(m, m) for m in maps],
                                       im_height=image_size, im_width=image_size)
    return tf_center_size(corners)


def check_mobilenet_v2_maps():
    """The layer walk against the maps the COCO models are known to have (300: the TFLite
    model's 1917 anchors; 320: the TF2 zoo's 320x320 SSD MobileNet V2, 2034)."""
    assert tf_ssd_mobilenet_v2_maps(300) == TF_SSD_MOBILENET_V1_MAPS, tf_ssd_mobilenet_v2_maps(300)
    assert tf_ssd_mobilenet_v2_maps(320) == [20, 10, 5, 3, 2, 1], tf_ssd_mobilenet_v2_maps(320)


def build_fixtures():
    tf_rows = tf_ssd_mobilenet_v1_rows(TF_SSD_MOBILENET_V1)
    blazeface_rows = mediapipe_ssd_anchors(**BLAZEFACE_FRONT)
    check_tf_port()
    check_mobilenet_v2_maps()
    check_mediapipe_port(blazeface_rows)
    maps_192 = tf_ssd_mobilenet_v2_maps(TF_MOBILENET_V2_192)
    torchvision_version = __import__("torchvision").__version__
    return [
        dict(name="ssd300Voc", rows=ssd_pytorch_prior_box(SSD300_VOC), count=8732,
             config=ssd_config(SSD300_VOC),
             source="ssd.pytorch layers/functions/prior_box.py PriorBox.forward re-typed in Python "
                    "(float64 math, torch.Tensor float32, clamp_ on all 4 columns), config voc"),
        dict(name="ssd512Voc", rows=ssd_pytorch_prior_box(SSD512_VOC), count=24564,
             config=ssd_config(SSD512_VOC),
             source="ssd.pytorch PriorBox.forward re-typed in Python with the SSD512 VOC sizes of "
                    "Caffe SSD ssd_pascal_512.py (as in chainercv SSD512)"),
        dict(name="torchvisionSsd300", rows=torchvision_default_boxes(**TORCHVISION_SSD300),
             count=8732, config=torchvision_config(TORCHVISION_SSD300),
             source="real torchvision %s DefaultBoxGenerator._grid_default_boxes (ssd300_vgg16 "
                    "settings), Debian python3-torchvision" % torchvision_version),
        dict(name="tfSsdMobilenetV1", rows=tf_rows, count=1917,
             config=tf_grid_config(TF_SSD_MOBILENET_V1, TF_SSD_MOBILENET_V1_MAPS),
             source="TF OD API create_ssd_anchors/MultipleGridAnchorGenerator/tile_anchors ported "
                    "to numpy float32, corners read back by BoxList.get_center_coordinates_and_sizes"),
        dict(name="tfSsdMobilenetV2At192",
             rows=tf_ssd_mobilenet_v1_rows(TF_SSD_MOBILENET_V1, maps_192, TF_MOBILENET_V2_192),
             count=3 * maps_192[0] ** 2 + 6 * sum(m * m for m in maps_192[1:]),
             config=tf_grid_config(TF_SSD_MOBILENET_V1, maps_192, TF_MOBILENET_V2_192),
             source="TF OD API create_ssd_anchors/MultipleGridAnchorGenerator ported to numpy "
                    "float32 (as tfSsdMobilenetV1) on the maps %s that TF SAME padding gives "
                    "ssd_mobilenet_v2's sources at 192x192 (layer walk of mobilenet_v2.py V2_DEF)"
                    % maps_192),
        dict(name="mediapipeBlazeFace", rows=blazeface_rows, count=896,
             config=mediapipe_config(BLAZEFACE_FRONT),
             source="MediaPipe ssd_anchors_calculator.cc GenerateAnchors ported to Python float32, "
                    "BlazeFace front-camera 128x128 options"),
        dict(name="mediapipeGoldenFaceDetection", rows=golden_file_0(), count=2944,
             config=mediapipe_config(GOLDEN_0_OPTIONS),
             source="MediaPipe testdata anchor_golden_file_0.txt (FaceDetectionConfig), 6 significant "
                    "digits; text rebuilt by the MediaPipe port, equal to upstream"),
        dict(name="mediapipeGoldenMobileSsd", rows=golden_file_1(tf_rows), count=1917,
             config=mediapipe_config(GOLDEN_1_OPTIONS),
             source="MediaPipe testdata anchor_golden_file_1.txt (MobileSSDConfig, TF-generated), 6 "
                    "significant digits; text rebuilt by the TF port + 4 upstream rows; tolerance 1e-5"),
    ]


def report_cross_checks(by_name):
    """Numbers for the README: how far families / variants are apart."""
    def max_diff(a, b):
        return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())

    ssd, tv = by_name["ssd300Voc"], by_name["torchvisionSsd300"]
    differ = np.any(ssd[:, :2] != tv[:, :2], axis=1)
    print("ssd300Voc vs torchvisionSsd300 centres: %d rows differ (max centre there %.6g, "
          "ssd.pytorch clamps it to 1); the other %d are bit-identical"
          % (differ.sum(), tv[differ, :2].max(), (~differ).sum()))
    tf_rows = by_name["tfSsdMobilenetV1"]
    proto = {k: (float(f32(v)) if isinstance(v, float) else v) for k, v in TF_SSD_MOBILENET_V1.items()}
    proto["aspect_ratios"] = tuple(float(f32(r)) for r in TF_SSD_MOBILENET_V1["aspect_ratios"])
    print("tfSsdMobilenetV1 vs proto-float32 arguments: max |diff| %.3g"
          % max_diff(tf_rows, tf_ssd_mobilenet_v1_rows(proto)))
    specs = tf_create_ssd_anchors_box_specs(**TF_SSD_MOBILENET_V1)
    direct = []
    for m, layer in zip(TF_SSD_MOBILENET_V1_MAPS, specs):
        for i, j in product(range(m), repeat=2):
            for scale, ratio in layer:
                direct.append(((j + 0.5) / m, (i + 0.5) / m, scale * sqrt(ratio), scale / sqrt(ratio)))
    print("tfSsdMobilenetV1 vs float64 direct (no corner round trip): max |diff| %.3g"
          % max_diff(tf_rows, direct))
    golden = by_name["mediapipeGoldenMobileSsd"]
    print("mediapipeGoldenMobileSsd vs tfSsdMobilenetV1: max |diff| %.3g" % max_diff(golden, tf_rows))
    mp = mediapipe_ssd_anchors(**GOLDEN_1_OPTIONS)
    print("mediapipeGoldenMobileSsd vs MediaPipe port: max |diff| %.3g" % max_diff(golden, mp))
    print("mediapipeGoldenFaceDetection vs MediaPipe port: max |diff| %.3g"
          % max_diff(by_name["mediapipeGoldenFaceDetection"], mediapipe_ssd_anchors(**GOLDEN_0_OPTIONS)))


def write_fixtures(fixtures):
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    manifest = []
    for fx in fixtures:
        rows = np.ascontiguousarray(fx["rows"], dtype="<f4")
        assert rows.ndim == 2 and rows.shape[1] == 4, fx["name"]
        assert rows.shape[0] == fx["count"], "%s: %d rows, expected %d" % (
            fx["name"], rows.shape[0], fx["count"])
        assert np.all(np.isfinite(rows)), fx["name"]
        file_name = fx["name"] + ".f32"
        (OUT_DIR / file_name).write_bytes(rows.tobytes())
        manifest.append({"name": fx["name"], "file": file_name, "count": int(rows.shape[0]),
                         "source": fx["source"], "config": fx["config"]})
        print("%-30s %6d rows" % (fx["name"], rows.shape[0]))
        for label, i in (("first", 0), ("", 1), ("last", -2), ("", -1)):
            print("   %-5s %s" % (label, " ".join("%.9g" % v for v in rows[i])))
    # One key a line, each config on one line: readable, and still plain JSON.
    entries = ["  {\n" + ",\n".join("    %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in e.items())
               + "\n  }" for e in manifest]
    (OUT_DIR / "manifest.json").write_text("[\n" + ",\n".join(entries) + "\n]\n")


def main():
    fixtures = build_fixtures()
    write_fixtures(fixtures)
    report_cross_checks({fx["name"]: fx["rows"] for fx in fixtures})


if __name__ == "__main__":
    main()
