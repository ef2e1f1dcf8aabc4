/*
 * A small complex FFT for the audio augmentations (lib/data/audio_augs.c): iterative radix-2, in double, sizes a
 * power of two. Written here rather than taken from FFTW so that results are bit-identical on every CPU (no
 * plans, no SIMD path chosen at run time) and nothing is held between calls.
 */
#ifndef SSCMA_LIB_DATA_FFT_H
#define SSCMA_LIB_DATA_FFT_H

#include <stdbool.h>
#include <stdint.h>

/* True when n is a power of two >= 1. */
#define SSCMA_FFT_PI 3.14159265358979323846

bool sscma_fft_size_ok(int64_t n);

/*
 * In place over n complex values (re[k], im[k]); n a power of two. Forward: X_k = sum_t x_t e^{-2 pi i k t / n}.
 * Inverse (inverse true) includes the 1 / n, as numpy.fft.ifft does.
 */
void sscma_fft(double *re, double *im, int64_t n, bool inverse);

#endif /* SSCMA_LIB_DATA_FFT_H */
