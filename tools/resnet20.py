"""ResNet-20-style CIFAR network for 1x28x28 input (Fashion-MNIST), shared by
tools/generate_engine_fixtures.py and bench/pytorch_peer.py.

    stem:   Conv3x3(in -> w0, stride 1, pad 1, no bias) + BN + ReLU
    stages: len(widths) stages of `blocks` BasicBlocks each; stage 1 keeps the
            resolution, every later stage starts with stride 2 (28 -> 14 -> 7)
    block:  Conv3x3(stride s) + BN + ReLU + Conv3x3 + BN, plus the shortcut, then ReLU.
            Shortcut when the shape changes (stride != 1 or channels change): 1x1 Conv
            (stride s, no bias) + BN ("option B"), so every channel group is produced by
            a real conv; otherwise identity.
    head:   global average pool + Linear(widths[-1] -> num_classes)

resnet20():      blocks=3, widths=(16, 32, 64)  -> 19 convs + fc = 20 layers (+2 projections)
resnet20_tiny(): blocks=1, widths=(4, 8, 16)    -> for fast gradient tests

Module names (and so state_dict / ONNX initializer names) follow torchvision's ResNet:
conv1, bn1, layer{1,2,3}.{i}.conv1/bn1/conv2/bn2, layer{k}.0.downsample.{0,1}, fc.
Needs only torch; importable from any working directory via sys.path.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["BasicBlock", "ResNetCifar", "resnet20", "resnet20_tiny", "build", "MODELS",
           "INPUT_SHAPE", "NUM_CLASSES"]

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        else:
            self.downsample = None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNetCifar(nn.Module):
    def __init__(self, blocks=3, widths=(16, 32, 64), in_channels=1, num_classes=NUM_CLASSES):
        super().__init__()
        if blocks < 1 or not widths:
            raise ValueError("need blocks >= 1 and at least one stage")
        self.blocks = blocks
        self.widths = tuple(widths)
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        in_planes = widths[0]
        for s, planes in enumerate(widths):
            stride = 1 if s == 0 else 2
            layers = []
            for b in range(blocks):
                layers.append(BasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.num_stages = len(widths)
        self.fc = nn.Linear(in_planes, num_classes)
        # He init for convs (as in the ResNet paper / torchvision); BN weight 1, bias 0;
        # Linear keeps PyTorch's default init.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for s in range(self.num_stages):
            x = getattr(self, "layer%d" % (s + 1))(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet20(num_classes=NUM_CLASSES, in_channels=1):
    return ResNetCifar(blocks=3, widths=(16, 32, 64), in_channels=in_channels,
                       num_classes=num_classes)


def resnet20_tiny(num_classes=NUM_CLASSES, in_channels=1):
    return ResNetCifar(blocks=1, widths=(4, 8, 16), in_channels=in_channels,
                       num_classes=num_classes)


MODELS = {"resnet20": resnet20, "resnet20_tiny": resnet20_tiny}


def build(name, **kw):
    try:
        return MODELS[name](**kw)
    except KeyError:
        raise ValueError("unknown model %r; known: %s" % (name, ", ".join(MODELS))) from None
