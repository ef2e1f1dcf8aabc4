#!/usr/bin/env python3
"""Looks for words in a picture the CLI drew: exit 0 when every --present word is found and no --absent one is.

Each word is rendered independently of libsscma (Pillow's FreeType, 8x supersampled and box-filtered, which
approximates stb_truetype's unhinted antialiasing at the CLI's 12-pixel line height) and searched for by normalised
cross-correlation over the whole picture (FFT). A drawn word matches at 0.8 or more; a word that is not in the
picture scores about 0.5 (measured on predictions and confusion pictures). Absent words are the negative control:
they show that the score separates text from the picture's other content.
Exit 77 (meson's skip) when the font or Pillow is missing."""
import argparse
import os
import sys

FONT = os.environ.get("SSCMA_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINE_PX = 12     # the CLI's text height (tools/sscma/draw.c LABEL_PX): stb_truetype's ascent - descent
PRESENT, ABSENT = 0.75, 0.65

try:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
except ImportError as e:
    print(f"picture_text: {e}: skipped")
    sys.exit(77)


def template(text, em_px=None):
    probe = ImageFont.truetype(FONT, 1000)
    ascent, descent = probe.getmetrics()
    em = em_px or LINE_PX * 1000.0 / (ascent + descent)  # Pillow's size is the em; stb scales ascent - descent
    k = 8
    font = ImageFont.truetype(FONT, int(round(em * k)))
    w = int(len(text) * em * 1.2) + 20
    im = Image.new("L", (w * k, 40 * k), 255)
    ImageDraw.Draw(im).text((5 * k, 5 * k), text, font=font, fill=0)
    a = np.asarray(im.resize((w, 40), Image.BOX), dtype=np.float64)
    ys, xs = np.where(a < 200)
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def best_match(img, t):
    H, W = img.shape
    h, w = t.shape
    if h > H or w > W:
        return 0.0
    t = t - t.mean()
    tn = np.sqrt((t ** 2).sum())
    shape = (H + h, W + w)
    num = np.fft.irfft2(np.fft.rfft2(img, s=shape) * np.fft.rfft2(t[::-1, ::-1], s=shape), s=shape)[h - 1:H, w - 1:W]
    c1 = np.pad(img, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    c2 = np.pad(img ** 2, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    win = lambda c: c[h:, w:] - c[:-h, w:] - c[h:, :-w] + c[:-h, :-w]
    s1, s2 = win(c1), win(c2)
    var = s2 - s1 ** 2 / (h * w)
    flat = var < 1e-3 * h * w
    r = num / (np.sqrt(np.maximum(var, 1e-9)) * tn)
    r[flat] = 0.0
    return float(np.abs(r).max())  # white-on-colour labels correlate negatively


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("png")
    ap.add_argument("--present", nargs="*", default=[])
    ap.add_argument("--absent", nargs="*", default=[])
    ap.add_argument("--em", type=float, help="the text's em size in pixels (an SVG's font-size) instead of the "
                    "CLI's 12-pixel line")
    a = ap.parse_args()
    if not os.path.exists(FONT):
        print(f"picture_text: no font at {FONT}: skipped")
        return 77
    img = np.asarray(Image.open(a.png).convert("L"), dtype=np.float64)
    ok = True
    for words, want in ((a.present, True), (a.absent, False)):
        for word in words:
            score = best_match(img, template(word, a.em))
            good = score >= PRESENT if want else score < ABSENT
            print(f"{'present' if want else 'absent '} {word!r}: {score:.3f} {'ok' if good else 'WRONG'}")
            ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
