/* Iterative radix-2 complex FFT (decimation in time): bit-reversal permutation, then log2(n) butterfly passes. */
#include <math.h>

#include "data/fft.h"

bool sscma_fft_size_ok(int64_t n)
{
    return n >= 1 && (n & (n - 1)) == 0;
}

void sscma_fft(double *re, double *im, int64_t n, bool inverse)
{
    for (int64_t i = 1, j = 0; i < n; i++) { /* j: i with its log2(n) bits reversed */
        int64_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j], re[j] = t;
            t = im[i], im[i] = im[j], im[j] = t;
        }
    }
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t len = 2; len <= n; len <<= 1) {
        const int64_t half = len >> 1;
        for (int64_t k = 0; k < half; k++) {
            /* the twiddle e^{sign 2 pi i k / len}, computed directly (no recurrence drift) */
            const double angle = sign * 2.0 * SSCMA_FFT_PI * (double)k / (double)len, wr = cos(angle), wi = sin(angle);
            for (int64_t s = k; s < n; s += len) {
                const int64_t t = s + half;
                const double xr = re[t] * wr - im[t] * wi, xi = re[t] * wi + im[t] * wr;
                re[t] = re[s] - xr, im[t] = im[s] - xi;
                re[s] += xr, im[s] += xi;
            }
        }
    }
    if (inverse)
        for (int64_t i = 0; i < n; i++)
            re[i] /= (double)n, im[i] /= (double)n;
}
