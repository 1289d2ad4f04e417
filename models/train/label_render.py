"""Scale-bar labels rendered with Debian's fonts on microscope-like grounds: training data for the label reader.

Each sample is one crop as readBarLabel cuts it (the label text, sometimes with its bar, on whatever the image
has around it), in the crop's native size, and its text as the reader must spell it ("100.0nm", "0.5um": no
spaces, µ/μ written u); one in five is other text (data-bar fields, spelt with "?" for letters) or none at
all. Real labels differ from clean renderings by their grounds (particles, grain, fibres,
gradients behind the letters), their fonts (Arial/Helvetica, Times, bold, condensed, bitmap fonts upscaled with
nearest neighbour), outlines drawn around letters for contrast, blur and JPEG; each of those is drawn here at random.

    python3 models/train/label_render.py OUT.npz N [seed]
"""
import glob
import io
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from label_line import net_line

FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation',
             '/usr/share/fonts/truetype/freefont', '/usr/share/fonts/truetype/lato']
SKIP = ('Math', 'Hairline', 'Thin', 'ExtraLight', 'Mono')

VALUES = [1, 2, 2.5, 3, 4, 5, 10, 20, 25, 30, 40, 50, 100, 200, 250, 300, 400, 500, 0.1, 0.2, 0.25, 0.5, 1000,
          2000, 5000, 15, 150, 75, 0.3, 0.4, 0.05, 1.5, 7, 8, 6, 60, 80, 800]


def fonts():
    """(upright fonts, slanted fonts): labels are seldom italic, so the slanted ones are drawn less often."""
    out = []
    for d in FONT_DIRS:
        out += [f for f in sorted(glob.glob(d + '/*.ttf')) if not any(s in f for s in SKIP)]
    slanted = [f for f in out if 'Italic' in f or 'Oblique' in f]
    return [f for f in out if f not in slanted], slanted


def label_text(rng):
    """(text drawn, target spelling)."""
    v = VALUES[rng.integers(len(VALUES))] if rng.random() < 0.85 else int(rng.integers(1, 1000))
    unit = ['nm', 'um', 'µm', 'μm', 'mm'][rng.choice(5, p=[0.5, 0.2, 0.18, 0.09, 0.03])]
    r = rng.random()
    if r < 0.15 and float(v).is_integer():
        num = f'{float(v):.1f}'  # DigitalMicrograph's "100.0nm"
    elif r < 0.2:
        num = f'{float(v):.2f}'
    else:
        num = f'{v:g}'
    if rng.random() < 0.05 and num.startswith('0.'):
        num = num[1:]  # ".5 um"
    sep = ['', ' ', ' ', '  '][rng.integers(4)]
    drawn = num + sep + unit
    return drawn, (num + unit).replace('µ', 'u').replace('μ', 'u')


# Text a crop may hold that is not a scale label: the other fields of SEM data bars (JEOL, Zeiss, FEI/Thermo,
# Hitachi, Tescan) and numbers without a length unit. The reader must spell them with "?" for the letters it does
# not know, so that "5.0kV" is read "5.0??" and fails to parse instead of being read as the nearest label, "5.0um".
FIELDS = ['SEI', 'LEI', 'BEI', 'COMPO', 'SE', 'BSE', 'SE2', 'ETD', 'TLD', 'InLens', 'det ETD', 'Signal A = InLens',
          'Signal = SE2', 'ZEISS', 'JEOL', 'FEI', 'HITACHI', 'TESCAN', 'Quanta', 'Noise Reduction', 'Line Int.',
          'Stage at T', 'Tilt = 0.0°', 'Date :3 Mar 2019', 'Time :10:22:41', 'SEM HV:', 'View field:', 'SEM MAG:',
          'Det: SE', 'mode', 'spot', 'HFW', 'Mag', 'EHT', 'Aperture', 'LEI', 'GB-H', 'SEM', 'TEM', 'STEM', 'HAADF']


def field_text(rng):
    r = rng.random()
    v = VALUES[rng.integers(len(VALUES))] if rng.random() < 0.7 else float(rng.integers(1, 100000))
    if r < 0.25:
        k = rng.choice([1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 3.0, 0.5, 200.0, 120.0, 80.0])
        return rng.choice([f'{k:.1f}kV', f'{k:g}kV', f'{k:g} kV', f'EHT = {k:.2f} kV', f'HV {k:.2f} kV',
                           f'{k:.1f} kV'])
    if r < 0.5:
        m = int(rng.choice([1000, 2000, 5000, 10000, 20000, 50000, 100000, 25000, 150, 500]))
        return rng.choice([f'X{m:,}', f'x{m:,}', f'x{m / 1000:g}k', f'x{m / 1000:.2f}k', f'Mag = {m / 1000:.2f} K X',
                           f'{m / 1000:.2f} kX', f'X {m:,}', f'{m:,}x'])
    if r < 0.8:
        return ' '.join(FIELDS[i] for i in rng.choice(len(FIELDS), int(rng.integers(1, 3)), replace=False))
    if r < 0.9:
        return rng.choice([f'spot {v:g}', f'{v:g}', f'{v:.1f}', f'{int(v)}', f'{v:g} / {v:g}', f'No. {int(v)}'])
    return f'{FIELDS[rng.integers(len(FIELDS))]} {v:g}'


def spell(drawn):
    """The target spelling of any drawn text: label characters as themselves, µ/μ as u, spaces dropped, every
    other character "?"."""
    out = ''
    for ch in drawn.replace('µ', 'u').replace('μ', 'u'):
        if ch == ' ':
            continue
        out += ch if ch in '0123456789.nmu' else '?'
    return out


def smooth_noise(rng, h, w, scale):
    small = rng.normal(0, 1, (max(2, int(h / scale) + 2), max(2, int(w / scale) + 2))).astype(np.float32)
    im = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    a = np.asarray(im, dtype=np.float32)
    return a / (a.std() + 1e-6)


def ground(rng, h, w):
    """A microscope-like ground in 0-255 (float): level, gradient, grain, particles, fibres."""
    g = np.full((h, w), rng.uniform(0, 255), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        a = rng.uniform(0, 2 * np.pi)
        g += rng.uniform(0, 80) * ((np.cos(a) * xx + np.sin(a) * yy) / max(h, w) - 0.5)
    if rng.random() < 0.6:
        g += rng.uniform(3, 25) * smooth_noise(rng, h, w, rng.uniform(1, 6))
    if rng.random() < 0.45:
        im = Image.new('L', (w, h), 0)
        d = ImageDraw.Draw(im)
        for _ in range(rng.integers(1, 6)):
            r = rng.uniform(0.3, 1.5) * h
            cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.3, 1.3) * h
            d.ellipse([cx - r, cy - r * rng.uniform(0.6, 1.4), cx + r, cy + r * rng.uniform(0.6, 1.4)],
                      fill=int(rng.integers(60, 256)))
        m = np.asarray(im.filter(ImageFilter.GaussianBlur(rng.uniform(0, 2))), np.float32) / 255
        g = g * (1 - m) + m * rng.uniform(0, 255)
    if rng.random() < 0.15:
        im = Image.new('L', (w, h), 0)
        d = ImageDraw.Draw(im)
        x0 = rng.uniform(0, w)
        d.line([x0, -5, x0 + rng.uniform(-h, h), h + 5], fill=255, width=int(rng.integers(3, max(4, h // 2))))
        m = np.asarray(im.filter(ImageFilter.GaussianBlur(1)), np.float32) / 255
        g = g * (1 - m) + m * (rng.uniform(0, 255) + 20 * smooth_noise(rng, h, w, 2))
    return g


def sample(rng, font_files):
    kind = rng.random()
    if kind < 0.16:
        drawn = field_text(rng)
        target = spell(drawn)
    elif kind < 0.2:  # no text at all: grain, particles, a bar
        drawn, target = '', ''
    else:
        drawn, target = label_text(rng)
    pool = font_files[1] if rng.random() < 0.12 else font_files[0]
    font_file = pool[rng.integers(len(pool))]
    pixel = rng.random() < 0.12  # a small bitmap-like rendering upscaled with nearest neighbour
    size = int(rng.integers(8, 14)) if pixel else int(rng.integers(9, 48))
    font = ImageFont.truetype(font_file, size)
    stroke = int(rng.integers(1, 3)) if rng.random() < 0.15 else 0
    l, t, r, b = font.getbbox(drawn or '0', stroke_width=stroke)
    tw, th = r - l, b - t
    if not drawn:
        tw = int(tw * rng.uniform(2, 8))
    mx = [int(rng.uniform(-0.05, 0.6) * size) for _ in range(2)]
    my = [int(rng.uniform(0.0, 0.5) * size) for _ in range(2)]
    bar = rng.random() < 0.3
    bar_h = int(rng.integers(2, max(3, size // 3))) if bar else 0
    bar_gap = int(rng.integers(1, max(2, size // 2))) if bar else 0
    bar_below = rng.random() < 0.75
    w = max(8, tw + mx[0] + mx[1])
    h = max(8, th + my[0] + my[1] + (bar_h + bar_gap if bar else 0))
    g = ground(rng, h, w)
    ink_dark = rng.random() < 0.7
    contrast = rng.uniform(90, 255)
    level = np.median(g)
    ink = max(0.0, level - contrast) if ink_dark else min(255.0, level + contrast)
    if rng.random() < 0.3:
        ink = 0.0 if ink_dark else 255.0
    mask = Image.new('L', (w, h), 0)
    outline = Image.new('L', (w, h), 0)
    d = ImageDraw.Draw(mask)
    ty = my[0] + (bar_h + bar_gap if bar and not bar_below else 0)
    d.text((mx[0] - l, ty - t), drawn, font=font, fill=255)
    if stroke:
        ImageDraw.Draw(outline).text((mx[0] - l, ty - t), drawn, font=font, fill=255, stroke_width=stroke)
    if bar:
        by = ty + th + bar_gap if bar_below else my[0]
        bx0 = int(rng.uniform(-0.2, 0.3) * w)
        bx1 = int(w - rng.uniform(-0.2, 0.3) * w)
        d.rectangle([bx0, by, bx1, by + bar_h - 1], fill=255)
    # What real crops have at their edges besides the label: the bar's end ticks, a particle's or a frame's
    # edge, a cut-off neighbouring glyph, a box drawn around the label. None of it is text to read.
    if rng.random() < 0.4:
        for _ in range(rng.integers(1, 3)):
            x = int(rng.choice([rng.uniform(0, mx[0] + 2), rng.uniform(w - mx[1] - 2, w)]))
            y0, y1 = sorted(int(v) for v in rng.uniform(-0.2, 1.2, 2) * h)
            d.rectangle([x, y0, x + int(rng.integers(0, 3)), max(y0 + 3, y1)], fill=255)
    if rng.random() < 0.15:
        ch = '0123456789nmµ.'[rng.integers(14)]
        side = rng.random() < 0.5
        d.text(((-0.65 if side else 0.65) * size + (0 if side else w - size * 0.35), ty - t), ch, font=font, fill=255)
    if rng.random() < 0.08:
        d.rectangle([0, 0, w - 1, h - 1], outline=255, width=int(rng.integers(1, 3)))
    m = np.asarray(mask, np.float32) / 255
    if stroke:
        o = np.asarray(outline, np.float32) / 255
        g = g * (1 - o) + o * (255.0 - ink)
    g = g * (1 - m) + m * ink
    img = Image.fromarray(np.clip(g, 0, 255).astype(np.uint8))
    if pixel:
        k = rng.uniform(1.5, 3.5)
        img = img.resize((max(1, int(w * k)), max(1, int(h * k))), Image.NEAREST)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.3)))
    if rng.random() < 0.3:  # printed small and scaled up again
        k = rng.uniform(0.4, 0.8)
        w0, h0 = img.size
        img = img.resize((max(4, int(w0 * k)), max(4, int(h0 * k))), Image.BILINEAR).resize((w0, h0), Image.BILINEAR)
    a = np.asarray(img, np.float32)
    if rng.random() < 0.5:
        a = a + rng.normal(0, rng.uniform(2, 12), a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        img.save(buf, 'JPEG', quality=int(rng.integers(25, 95)))
        img = Image.open(io.BytesIO(buf.getvalue())).convert('L')
    return np.asarray(img, np.uint8), target


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    rng = np.random.default_rng(seed)
    ff = fonts()
    lines, texts = [], []
    for _ in range(n):
        a, t = sample(rng, ff)
        lines.append(net_line(a))
        texts.append(t)
    width = max(x.shape[1] for x in lines)
    arr = np.full((n, lines[0].shape[0], width), 255, np.uint8)
    widths = np.zeros(n, np.int32)
    for k, x in enumerate(lines):
        arr[k, :, :x.shape[1]] = x
        arr[k, :, x.shape[1]:] = border_median(x)
        widths[k] = x.shape[1]
    np.savez_compressed(out, lines=arr, widths=widths, texts=np.array(texts))


def border_median(x):
    b = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    return int(np.median(b))


if __name__ == '__main__':
    main()
