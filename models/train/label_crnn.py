"""The scale-bar label reader: a small convolutional line recogniser trained with CTC on rendered labels
(label_render.py), exported to ONNX for src/core/calibrate/label-net.ts.

    python3 models/train/label_crnn.py train DATA.npz[,DATA2.npz] OUT.pt [minutes [INIT.pt [lr]]]
    python3 models/train/label_crnn.py eval OUT.pt CROPS_DIR LABELS_CSV
    python3 models/train/label_crnn.py export OUT.pt models/saemi-label.onnx VOTE_WEIGHT MIN_CONFIDENCE MIN_DIGIT_P \
        UNCONFIRMED_BAR_MIN_DIGIT_P

Input: [1, 1, 32, W] floats in 0-1 (label_line.net_line / 255), W a multiple of 4. Output: [1, W/4, C] log
probabilities over CHARSET with the CTC blank at index 0. "?" is any character a label does not have (the
letters of data-bar fields such as "5.0kV"): reading it makes a line fail to parse instead of being read as a label.
INIT.pt starts from earlier weights; output classes added to CHARSET since then start untrained.
"""
import csv
import math
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from label_line import net_line

CHARSET = '0123456789.nmu?'
torch.set_num_threads(2)


def block(i, o):
    return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]


class LabelNet(nn.Module):
    def __init__(self, c=(32, 64, 96, 128)):
        super().__init__()
        self.features = nn.Sequential(
            *block(1, c[0]), nn.MaxPool2d(2),                    # 16 x W/2
            *block(c[0], c[1]), nn.MaxPool2d(2),                 # 8 x W/4
            *block(c[1], c[2]), *block(c[2], c[2]), nn.MaxPool2d((2, 1)),  # 4
            *block(c[2], c[3]), nn.MaxPool2d((2, 1)),            # 2
            nn.Conv2d(c[3], c[3], (2, 1), bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(inplace=True),  # 1
        )
        # A bidirectional LSTM over the columns: which of "u"/"n"/"µ" a glyph is, and whether a wide digit is one
        # character or two, depends on its neighbours (a convolution-only head read "200" as "2200").
        self.rnn = nn.LSTM(c[3], 96, bidirectional=True)
        self.out = nn.Linear(192, len(CHARSET) + 1)

    def forward(self, x):
        f = self.features(x).squeeze(2).permute(2, 0, 1)  # T, B, C
        h, _ = self.rnn(f)
        return F.log_softmax(self.out(h), dim=-1).permute(1, 0, 2)  # B, T, K


def encode(t):
    return [CHARSET.index(ch) + 1 for ch in t]


def greedy(logp):
    """Best path, repeats merged, blanks dropped; with the mean probability of the characters kept."""
    best = logp.argmax(-1)
    out, probs, prev = [], [], 0
    for t, k in enumerate(best.tolist()):
        if k != prev and k != 0:
            out.append(CHARSET[k - 1])
            probs.append(math.exp(float(logp[t, k])))
        prev = k
    return ''.join(out), (float(np.mean(probs)) if probs else 0.0)


LABEL = re.compile(r'(\d*[.,]?\d+)\s*(nm|um|µm|μm|mm)')


def parse(text):
    m = LABEL.search(text.replace(',', '.'))
    if not m:
        return None
    u = m.group(2).replace('µ', 'u').replace('μ', 'u')
    return round(float(m.group(1)), 6), u


def load(paths):
    lines, widths, texts = [], [], []
    for p in paths.split(','):
        d = np.load(p)
        lines.append(d['lines'])
        widths.append(d['widths'])
        texts += list(d['texts'])
    w = max(x.shape[2] for x in lines)
    lines = [np.pad(x, ((0, 0), (0, 0), (0, w - x.shape[2])), mode='edge') for x in lines]
    return np.concatenate(lines), np.concatenate(widths), texts


def batch_tensor(lines, widths, idx, rng):
    w = int(widths[idx].max())
    x = torch.from_numpy(lines[idx, :, :w].astype(np.float32) / 255).unsqueeze(1)
    flip = torch.from_numpy(rng.random(len(idx)) < 0.25)
    x[flip] = 1 - x[flip]
    return x


def load_init(net, path):
    sd = torch.load(path)
    own = net.state_dict()
    for k, v in sd.items():
        if own[k].shape != v.shape:  # the output layer of a smaller charset: its classes keep their weights
            own[k][:v.shape[0]] = v
            sd[k] = own[k]
    net.load_state_dict(sd)


def train(data, out, minutes=20.0, init=None, lr=2e-3):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    lines, widths, texts = load(data)
    targets = [encode(t) for t in texts]
    net = LabelNet()
    if init:
        load_init(net, init)
    print('params', sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(zero_infinity=True, reduction='none')  # 'mean' divides by target length, 0 for no text
    # Batches of similar width waste less padding.
    order = np.argsort(widths)
    bs = 48
    groups = [order[i:i + bs] for i in range(0, len(order) - bs + 1, bs)]
    t0 = time.time()
    budget = minutes * 60
    step = 0
    while time.time() - t0 < budget:
        for gi in rng.permutation(len(groups)):
            frac = (time.time() - t0) / budget
            if frac >= 1:
                break
            for g in opt.param_groups:
                g['lr'] = lr * 0.5 * (1 + math.cos(math.pi * min(1, frac)))
            idx = groups[gi]
            x = batch_tensor(lines, widths, idx, rng)
            logp = net(x)
            T = logp.shape[1]
            tg = [targets[i] for i in idx]
            lengths = torch.tensor([len(t) for t in tg], dtype=torch.long)
            loss = ctc(logp.permute(1, 0, 2), torch.tensor(sum(tg, []), dtype=torch.long),
                       torch.full((len(idx),), T, dtype=torch.long), lengths)
            loss = (loss / lengths.clamp(min=1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                print(f'step {step} loss {loss.item():.4f} lr {opt.param_groups[0]["lr"]:.5f} '
                      f'{time.time() - t0:.0f}s', flush=True)
                torch.save(net.state_dict(), out)
    torch.save(net.state_dict(), out)
    print('done', step, flush=True)


def read(net, crop):
    x = torch.from_numpy(net_line(crop).astype(np.float32) / 255)[None, None]
    with torch.no_grad():
        return greedy(net(x)[0])


def evaluate(weights, crops, labels):
    from PIL import Image
    net = LabelNet()
    net.load_state_dict(torch.load(weights))
    net.eval()
    ok = 0
    rows = list(csv.DictReader(open(labels)))
    for r in rows:
        a = np.asarray(Image.open(f'{crops}/{r["crop"]}').convert('L'))
        best = None
        for img in (a, 255 - a):
            t, p = read(net, img)
            if parse(t) and (best is None or p > best[1]):
                best = (t, p)
        got = parse(best[0]) if best else None
        good = got == parse(r['text'])
        ok += good
        print(f'{r["crop"]}\t{r["text"]}\t{best}\t{"ok" if good else "MISS"}')
    print(f'exact {ok}/{len(rows)}')


PROVENANCE = ('models/train/label_crnn.py on crops rendered by label_render.py in Debian fonts (1.0.0: seeds 1, 2, 11, '
              '12; 1.1.0 fine-tuned from it with "?" added, on seeds 11, 12, 21, 22); no real crop trained on. '
              'Card: models/README.md')


def export(weights, out, vote_weight, min_confidence, min_digit_probability,
           unconfirmed_bar_min_digit_probability):
    """The .onnx and its sidecar (same stem, .json): the contract label-net.ts reads."""
    import hashlib
    import json
    import os
    import label_line
    net = LabelNet()
    net.load_state_dict(torch.load(weights))
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 1, label_line.LINE_H, 96), out, input_names=['line'],
                      output_names=['logp'], dynamic_axes={'line': {3: 'width'}, 'logp': {1: 'steps'}},
                      opset_version=13)
    sha = hashlib.sha256(open(out, 'rb').read()).hexdigest()
    side = {
        'name': 'saemi-label',
        'version': '1.1.0',
        'file': os.path.basename(out),
        'sha256': sha,
        'charset': CHARSET,
        'line': {'height': label_line.LINE_H, 'stride': label_line.STRIDE, 'minWidth': label_line.MIN_W,
                 'maxWidth': label_line.MAX_W},
        'voteWeight': vote_weight,
        'minConfidence': min_confidence,
        'minDigitProbability': min_digit_probability,
        'unconfirmedBarMinDigitProbability': unconfirmed_bar_min_digit_probability,
        'provenance': PROVENANCE,
    }
    with open(os.path.splitext(out)[0] + '.json', 'w') as f:
        json.dump(side, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'train':
        train(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 20,
              sys.argv[5] if len(sys.argv) > 5 else None, float(sys.argv[6]) if len(sys.argv) > 6 else 2e-3)
    elif cmd == 'eval':
        evaluate(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'export':
        export(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]),
               float(sys.argv[7]))
