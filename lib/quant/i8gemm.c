/* int8 tiles of the matrix product (i8gemm.h): packing, and one micro-kernel per backend. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "quant/fixedpoint.h"
#include "quant/i8gemm.h"

#if defined(__GNUC__) && defined(__x86_64__)
#  define I8_X86 1
#  include <immintrin.h>
#endif

i8_backend sscma_i8_backend(void)
{
#if defined(SSCMA_MICRO) /* the micro runtime: the portable kernels, no environment */
    return I8_PORTABLE;
#endif
    const char *force = getenv("SSCMA_INT8_KERNELS");
    i8_backend best = I8_PORTABLE;
#if defined(I8_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        best = I8_AVX2;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl"))
        best = I8_VNNI;
#endif
    if (force != NULL) {
        if (strcmp(force, "portable") == 0)
            return I8_PORTABLE;
        if (strcmp(force, "avx2") == 0 && best >= I8_AVX2)
            return I8_AVX2;
    }
    return best;
}

i8_backend sscma_i8_backend_cached(void)
{
    static _Atomic int cached = -1;
    int v = cached;
    if (v < 0)
        cached = v = (int)sscma_i8_backend();
    return (i8_backend)v;
}

int64_t sscma_i8_k_pad(i8_backend be, int64_t k)
{
    int64_t q = be == I8_VNNI ? 4 : 2;
    return (k + q - 1) / q * q;
}

int64_t sscma_i8_n_pad(int64_t n)
{
    return (n + I8_NR - 1) / I8_NR * I8_NR;
}

size_t sscma_i8_a_size(i8_backend be)
{
    return be == I8_VNNI ? 1 : 2;
}

size_t sscma_i8_packed_bytes(i8_backend be, int64_t n, int64_t k)
{
    return (size_t)(sscma_i8_n_pad(n) * sscma_i8_k_pad(be, k)) * sscma_i8_a_size(be);
}

void sscma_i8_pack(i8_backend be, const int8_t *w, int64_t n, int64_t k, void *packed, int32_t *wsum)
{
    int64_t kp = sscma_i8_k_pad(be, k), np = sscma_i8_n_pad(n), g = be == I8_VNNI ? 4 : 2;
    memset(packed, 0, sscma_i8_packed_bytes(be, n, k));
    for (int64_t j = 0; j < n; j++) {
        int32_t s = 0;
        for (int64_t i = 0; i < k; i++)
            s += w[j * k + i];
        wsum[j] = s;
    }
    for (int64_t j = n; j < np; j++)
        wsum[j] = 0;
    /* block b = j / 16, group q = i / g: element at ((b * (kp / g) + q) * 16 + j % 16) * g + i % g */
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = 0; i < k; i++) {
            size_t at = (size_t)((((j / I8_NR) * (kp / g) + i / g) * I8_NR + j % I8_NR) * g + i % g);
            if (be == I8_VNNI)
                ((int8_t *)packed)[at] = w[j * k + i];
            else
                ((int16_t *)packed)[at] = w[j * k + i];
        }
}

SSCMA_KERNEL void sscma_i8_a_copy(i8_backend be, void *a, int64_t at, const int8_t *x, int64_t n)
{
    if (be == I8_VNNI) {
        uint8_t *d = (uint8_t *)a + at;
        for (int64_t i = 0; i < n; i++)
            d[i] = (uint8_t)((uint8_t)x[i] ^ 0x80u);
    } else {
        int16_t *d = (int16_t *)a + at;
        for (int64_t i = 0; i < n; i++)
            d[i] = x[i];
    }
}

void sscma_i8_a_fill(i8_backend be, void *a, int64_t at, int32_t x, int64_t n)
{
    if (be == I8_VNNI) {
        memset((uint8_t *)a + at, x + 128, (size_t)n);
    } else {
        int16_t *d = (int16_t *)a + at;
        for (int64_t i = 0; i < n; i++)
            d[i] = (int16_t)x;
    }
}

/* Portable: the AVX2 packing read with plain C. */
static void tile_portable(const int16_t *a, const int16_t *wp, int64_t k_pad, int64_t n_pad, int32_t *c)
{
    int64_t k2 = k_pad / 2;
    for (int64_t b = 0; b < n_pad / I8_NR; b++) {
        uint32_t acc[I8_MR][I8_NR];
        memset(acc, 0, sizeof acc);
        const int16_t *w = wp + b * k2 * I8_NR * 2;
        for (int64_t q = 0; q < k2; q++)
            for (int r = 0; r < I8_MR; r++) {
                int32_t a0 = a[r * k_pad + 2 * q], a1 = a[r * k_pad + 2 * q + 1];
                for (int j = 0; j < I8_NR; j++)
                    acc[r][j] += (uint32_t)(a0 * w[(q * I8_NR + j) * 2] + a1 * w[(q * I8_NR + j) * 2 + 1]);
            }
        for (int r = 0; r < I8_MR; r++)
            for (int j = 0; j < I8_NR; j++)
                c[r * n_pad + b * I8_NR + j] = (int32_t)acc[r][j];
    }
}

#if defined(I8_X86)
__attribute__((target("avx2"))) static void tile_avx2(const int16_t *a, const int16_t *wp, int64_t k_pad,
                                                     int64_t n_pad, int32_t *c)
{
    int64_t k2 = k_pad / 2;
    for (int64_t b = 0; b < n_pad / I8_NR; b++) {
        __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
                c31 = c00;
        const int16_t *w = wp + b * k2 * I8_NR * 2;
        const int16_t *a0 = a, *a1 = a + k_pad, *a2 = a + 2 * k_pad, *a3 = a + 3 * k_pad;
        for (int64_t q = 0; q < k2; q++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + q * 32));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + q * 32 + 16));
            int32_t p0, p1, p2, p3;
            memcpy(&p0, a0 + 2 * q, 4);
            memcpy(&p1, a1 + 2 * q, 4);
            memcpy(&p2, a2 + 2 * q, 4);
            memcpy(&p3, a3 + 2 * q, 4);
            __m256i b0 = _mm256_set1_epi32(p0), b1 = _mm256_set1_epi32(p1), b2 = _mm256_set1_epi32(p2),
                    b3 = _mm256_set1_epi32(p3);
            c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, w0));
            c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b0, w1));
            c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b1, w0));
            c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, w1));
            c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b2, w0));
            c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b2, w1));
            c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b3, w0));
            c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b3, w1));
        }
        int32_t *o = c + b * I8_NR;
        _mm256_storeu_si256((__m256i *)o, c00);
        _mm256_storeu_si256((__m256i *)(o + 8), c01);
        _mm256_storeu_si256((__m256i *)(o + n_pad), c10);
        _mm256_storeu_si256((__m256i *)(o + n_pad + 8), c11);
        _mm256_storeu_si256((__m256i *)(o + 2 * n_pad), c20);
        _mm256_storeu_si256((__m256i *)(o + 2 * n_pad + 8), c21);
        _mm256_storeu_si256((__m256i *)(o + 3 * n_pad), c30);
        _mm256_storeu_si256((__m256i *)(o + 3 * n_pad + 8), c31);
    }
}

/*
 * The 4 x 16 int32 block of column block b: rows of `a` (k_pad uint8 apart) against the packed weights. A packed
 * quad (16 columns x 4 k, 64 bytes) is exactly one zmm operand of vpdpbusd: one weight load and four broadcasts per
 * four dpbusd (two ymm halves per row took twice the instructions).
 */
__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) static inline void
vnni_block(const uint8_t *a, const int8_t *w, int64_t k_pad, __m512i c[4])
{
    for (int r = 0; r < 4; r++)
        c[r] = _mm512_setzero_si512();
    const uint8_t *a0 = a, *a1 = a + k_pad, *a2 = a + 2 * k_pad, *a3 = a + 3 * k_pad;
    for (int64_t q = 0; q < k_pad / 4; q++) {
        __m512i wq = _mm512_loadu_si512(w + q * 64);
        int32_t p0, p1, p2, p3;
        memcpy(&p0, a0 + 4 * q, 4);
        memcpy(&p1, a1 + 4 * q, 4);
        memcpy(&p2, a2 + 4 * q, 4);
        memcpy(&p3, a3 + 4 * q, 4);
        c[0] = _mm512_dpbusd_epi32(c[0], _mm512_set1_epi32(p0), wq);
        c[1] = _mm512_dpbusd_epi32(c[1], _mm512_set1_epi32(p1), wq);
        c[2] = _mm512_dpbusd_epi32(c[2], _mm512_set1_epi32(p2), wq);
        c[3] = _mm512_dpbusd_epi32(c[3], _mm512_set1_epi32(p3), wq);
    }
}

__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) static void
tile_vnni(const uint8_t *a, const int8_t *wp, int64_t k_pad, int64_t n_pad, int32_t *c)
{
    for (int64_t b = 0; b < n_pad / I8_NR; b++) {
        __m512i acc[4];
        vnni_block(a, wp + b * (k_pad / 4) * I8_NR * 4, k_pad, acc);
        for (int r = 0; r < 4; r++)
            _mm512_storeu_si512(c + r * n_pad + b * I8_NR, acc[r]);
    }
}
#endif

#if defined(I8_X86)
#  define I8_AVX512BW __attribute__((target("avx2,avx512f,avx512bw,avx512vl,bmi2")))
/* n bytes of x to A's unsigned encoding (x ^ 0x80), 64 at a time, the tail masked. */
I8_AVX512BW static inline void copy_flip(uint8_t *d, const int8_t *s, int64_t n)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (; n >= 64; n -= 64, d += 64, s += 64)
        _mm512_storeu_si512(d, _mm512_xor_si512(_mm512_loadu_si512(s), flip));
    if (n > 0) {
        __mmask64 m = _bzhi_u64(~(uint64_t)0, (unsigned)n);
        _mm512_mask_storeu_epi8(d, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, s), flip));
    }
}

I8_AVX512BW static inline void fill_bytes(uint8_t *d, __m512i v, int64_t n)
{
    for (; n >= 64; n -= 64, d += 64)
        _mm512_storeu_si512(d, v);
    if (n > 0)
        _mm512_mask_storeu_epi8(d, _bzhi_u64(~(uint64_t)0, (unsigned)n), v);
}

/*
 * One im2col row of at most 64 bytes built in a register: each window row's run of in-image taps is expand-loaded
 * (VBMI2) straight into its lanes, the rest read as the zero point (padding) or 0 (past K), and the row is stored
 * once. For the input layer (3 channels: nine-byte runs) this replaces twelve small masked copies per row.
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2"))) static void
gather_row_expand(const i8_geom *g, const int8_t *x, int64_t n, int64_t oy, int64_t ox, uint8_t *a)
{
    const int64_t C = g->C, run = (int64_t)g->kw * C;
    const __mmask64 in_k = _bzhi_u64(~(uint64_t)0, (unsigned)g->K);
    __m512i v = _mm512_maskz_mov_epi8(in_k, _mm512_set1_epi8((char)g->zp)); /* raw: zp inside K, 0 past it */
    const int64_t iy0 = oy * g->stride_h - g->pad_t, ix0 = ox * g->stride_w - g->pad_l;
    int64_t kx0, kx1;
    sscma_i8_window_run(ix0, g->W, g->kw, &kx0, &kx1);
    for (int32_t ky = 0; ky < g->kh && kx1 > kx0; ky++) {
        const int64_t iy = iy0 + (int64_t)ky * g->dil_h;
        if (iy < 0 || iy >= g->H)
            continue;
        const int64_t lo = ky * run + kx0 * C, hi = ky * run + kx1 * C;
        const __mmask64 m = _bzhi_u64(~(uint64_t)0, (unsigned)hi) & ~_bzhi_u64(~(uint64_t)0, (unsigned)lo);
        v = _mm512_mask_expandloadu_epi8(v, m, x + ((n * g->H + iy) * g->W + ix0 + kx0) * C);
    }
    _mm512_mask_storeu_epi8(a, _bzhi_u64(~(uint64_t)0, (unsigned)g->k_pad), _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80)));
}

static bool have_vbmi2(void)
{
    static _Atomic int cached = -1;
    int v = cached;
    if (v < 0) {
        __builtin_cpu_init();
        cached = v = __builtin_cpu_supports("avx512vbmi2") ? 1 : 0;
    }
    return v == 1;
}

I8_AVX512BW static void gather_vnni(const i8_geom *g, const int8_t *x, int64_t m0, uint8_t *a)
{
    const __m512i pad = _mm512_set1_epi8((char)(uint8_t)(g->zp + 128)), zero = _mm512_set1_epi8((char)0x80);
    const int64_t C = g->C, kp = g->k_pad, run = (int64_t)g->kw * C;
    if (g->direct && C == kp && m0 + I8_MR <= g->M) { /* four consecutive pixels: one run */
        copy_flip(a, x + m0 * C, I8_MR * C);
        return;
    }
    /* the first row's pixel (n, oy, ox); the next rows step along ox */
    int64_t n = m0 / (g->OH * g->OW), oy = m0 % (g->OH * g->OW) / g->OW, ox = m0 % g->OW;
    const bool expand = !g->direct && g->dil_w == 1 && g->k_pad <= 64 && have_vbmi2();
    for (int r = 0; r < I8_MR; r++, a += kp) {
        const int64_t m = m0 + r;
        if (r > 0 && ++ox == g->OW) {
            ox = 0;
            if (++oy == g->OH)
                oy = 0, n++;
        }
        if (m >= g->M) {
            fill_bytes(a, zero, kp);
            continue;
        }
        if (expand) {
            gather_row_expand(g, x, n, oy, ox, a);
            continue; /* K..k_pad included */
        }
        if (g->direct) {
            copy_flip(a, x + m * C, C);
        } else {
            const int64_t iy0 = oy * g->stride_h - g->pad_t, ix0 = ox * g->stride_w - g->pad_l;
            uint8_t *d = a;
            for (int32_t ky = 0; ky < g->kh; ky++, d += run) {
                const int64_t iy = iy0 + (int64_t)ky * g->dil_h;
                if (iy < 0 || iy >= g->H) {
                    fill_bytes(d, pad, run);
                    continue;
                }
                const int8_t *row = x + (n * g->H + iy) * g->W * C;
                if (g->dil_w == 1) { /* the taps inside the image are one contiguous run */
                    int64_t kx0, kx1;
                    sscma_i8_window_run(ix0, g->W, g->kw, &kx0, &kx1);
                    if (kx0 > 0)
                        fill_bytes(d, pad, kx0 * C);
                    copy_flip(d + kx0 * C, row + (ix0 + kx0) * C, (kx1 - kx0) * C);
                    if (kx1 < g->kw)
                        fill_bytes(d + kx1 * C, pad, (g->kw - kx1) * C);
                    continue;
                }
                for (int32_t kx = 0; kx < g->kw; kx++) {
                    const int64_t ix = ix0 + (int64_t)kx * g->dil_w;
                    if (ix < 0 || ix >= g->W)
                        fill_bytes(d + kx * C, pad, C);
                    else
                        copy_flip(d + kx * C, row + ix * C, C);
                }
            }
        }
        if (g->K < kp)
            fill_bytes(a + g->K, zero, kp - g->K);
    }
}
#endif

bool sscma_i8_gather(i8_backend be, const i8_geom *g, const int8_t *x, int64_t m0, void *a)
{
#if defined(I8_X86)
    if (be == I8_VNNI) {
        gather_vnni(g, x, m0, a);
        return true;
    }
#endif
    (void)be, (void)g, (void)x, (void)m0, (void)a;
    return false;
}

void sscma_i8_tile(i8_backend be, const void *a, const void *packed, int64_t k_pad, int64_t n_pad, int32_t *c)
{
#if !defined(I8_X86)
    (void)be; /* the portable kernels only */
#endif
#if defined(I8_X86)
    if (be == I8_VNNI) {
        tile_vnni(a, packed, k_pad, n_pad, c);
        return;
    }
    if (be == I8_AVX2) {
        tile_avx2(a, packed, k_pad, n_pad, c);
        return;
    }
#endif
    tile_portable(a, packed, k_pad, n_pad, c);
}

/* ---- requantization ---- */

static void requant_scalar(const int32_t *acc, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int per_channel, int64_t from, int64_t n, int32_t zp, int32_t lo, int32_t hi, int8_t *y)
{
    for (int64_t j = from; j < n; j++) {
        int32_t a = (int32_t)((uint32_t)acc[j] + (uint32_t)(bias != NULL ? bias[j] : 0));
        int32_t v = fx_mul_by_qm(a, mult[per_channel ? j : 0], shift[per_channel ? j : 0]) + zp;
        y[j] = (int8_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

#if defined(I8_X86)
/*
 * Eight lanes of MultiplyByQuantizedMultiplier. The rounding doubling high multiply of x and a positive multiplier m
 * is floor((x m + 2^30) / 2^31) for either sign of x (the nudge and the truncation toward zero combine to + 2^30), and
 * its low 32 bits are those of a logical 64-bit shift.
 */
__attribute__((target("avx2"))) static inline __m256i mbqm8(__m256i x, __m256i m, __m256i shift)
{
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    __m256i left = _mm256_max_epi32(shift, zero), right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    x = _mm256_sllv_epi32(x, left);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), round), 31);
    __m256i odd = _mm256_srli_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), round), 31);
    __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    /* rounding divide by 2^right: ties away from zero */
    __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    __m256i rem = _mm256_and_si256(v, mask);
    __m256i thr = _mm256_add_epi32(_mm256_srai_epi32(mask, 1), _mm256_and_si256(_mm256_cmpgt_epi32(zero, v), one));
    __m256i q = _mm256_srav_epi32(v, right);
    return _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, thr)); /* cmpgt is -1 where true */
}

__attribute__((target("avx2"))) static void requant_avx2(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                                        const int32_t *shift, int per_channel, int64_t n, int32_t zp,
                                                        int32_t lo, int32_t hi, int8_t *y)
{
    const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    __m256i m = _mm256_set1_epi32(mult[0]), s = _mm256_set1_epi32(shift[0]);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(acc + j));
        if (bias != NULL)
            a = _mm256_add_epi32(a, _mm256_loadu_si256((const __m256i *)(bias + j)));
        if (per_channel) {
            m = _mm256_loadu_si256((const __m256i *)(mult + j));
            s = _mm256_loadu_si256((const __m256i *)(shift + j));
        }
        __m256i v = _mm256_add_epi32(mbqm8(a, m, s), vzp);
        v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
        /* to 8 bytes: the values are already within int8 */
        __m128i lo16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        __m128i b8 = _mm_packs_epi16(lo16, lo16);
        _mm_storel_epi64((__m128i *)(y + j), b8);
    }
    requant_scalar(acc, bias, mult, shift, per_channel, j, n, zp, lo, hi, y);
}
/*
 * Sixteen lanes of the same (the VNNI backend implies AVX-512F). shl false: the caller knows no shift is positive
 * (the usual case: multipliers below 1), which saves the left shift; with a constant shl after inlining the branch
 * goes away.
 */
__attribute__((target("avx512f,avx512vl"), always_inline)) static inline __m512i mbqm16_x(__m512i x, __m512i m,
                                                                                        __m512i shift, bool shl)
{
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    if (shl)
        x = _mm512_sllv_epi32(x, _mm512_max_epi32(shift, zero));
    const __m512i round = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, m), round), 31);
    __m512i odd = _mm512_srli_epi64(
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32)), round), 31);
    __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    __m512i rem = _mm512_and_si512(v, mask);
    __m512i half = _mm512_srai_epi32(mask, 1);
    __m512i thr = _mm512_mask_add_epi32(half, _mm512_cmplt_epi32_mask(v, zero), half, one);
    __m512i q = _mm512_srav_epi32(v, right);
    return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, thr), q, one);
}

__attribute__((target("avx512f,avx512vl"))) static inline __m512i mbqm16(__m512i x, __m512i m, __m512i shift)
{
    return mbqm16_x(x, m, shift, true);
}

/* Whether any of sixteen shifts is a left shift. */
__attribute__((target("avx512f,avx512vl"))) static inline bool any_left16(__m512i shift)
{
    return _mm512_cmpgt_epi32_mask(shift, _mm512_setzero_si512()) != 0;
}

/*
 * mbqm16 plus the zero point, clamped to lo..hi; clamp false where lo..hi is all of int8 (the saturating narrowing
 * that follows does it: ReLU6 ranges that start at 0 have zero point -128 and often end at 127).
 */
__attribute__((target("avx512f,avx512vl"), always_inline)) static inline __m512i
requant16(__m512i x, __m512i m, __m512i shift, __m512i zp, __m512i lo, __m512i hi, bool shl, bool clamp)
{
    __m512i v = _mm512_add_epi32(mbqm16_x(x, m, shift, shl), zp);
    return clamp ? _mm512_min_epi32(_mm512_max_epi32(v, lo), hi) : v;
}

__attribute__((target("avx512f,avx512vl,avx2"))) static void requant_avx512(const int32_t *acc, const int32_t *bias,
                                                                          const int32_t *mult, const int32_t *shift,
                                                                          int per_channel, int64_t n, int32_t zp,
                                                                          int32_t lo, int32_t hi, int8_t *y)
{
    const __m512i vzp = _mm512_set1_epi32(zp), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    __m512i m = _mm512_set1_epi32(mult[0]), s = _mm512_set1_epi32(shift[0]);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512i a = _mm512_loadu_si512(acc + j);
        if (bias != NULL)
            a = _mm512_add_epi32(a, _mm512_loadu_si512(bias + j));
        if (per_channel) {
            m = _mm512_loadu_si512(mult + j);
            s = _mm512_loadu_si512(shift + j);
        }
        __m512i v = _mm512_add_epi32(mbqm16(a, m, s), vzp);
        v = _mm512_min_epi32(_mm512_max_epi32(v, vlo), vhi);
        _mm_storeu_si128((__m128i *)(y + j), _mm512_cvtsepi32_epi8(v));
    }
    if (j < n)
        requant_avx2(acc + j, bias != NULL ? bias + j : NULL, per_channel ? mult + j : mult,
                     per_channel ? shift + j : shift, per_channel, n - j, zp, lo, hi, y + j);
}

/*
 * nb (1..4) column blocks of the 4-row tile at once: per quad of k, four broadcasts of A and nb weight loads feed
 * 4 nb vpdpbusd, so a narrow K does not re-broadcast A for every block. With nb a constant after inlining, c[] lives
 * in registers.
 */
__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"), always_inline)) static inline void
vnni_blocks(const uint8_t *a, const int8_t *w, int64_t k_pad, int nb, __m512i c[16])
{
    const int64_t stride = (k_pad / 4) * I8_NR * 4; /* bytes from one packed block to the next */
    for (int i = 0; i < 4 * nb; i++)
        c[i] = _mm512_setzero_si512();
    const uint8_t *a0 = a, *a1 = a + k_pad, *a2 = a + 2 * k_pad, *a3 = a + 3 * k_pad;
    for (int64_t q = 0; q < k_pad / 4; q++) {
        int32_t p0, p1, p2, p3;
        memcpy(&p0, a0 + 4 * q, 4);
        memcpy(&p1, a1 + 4 * q, 4);
        memcpy(&p2, a2 + 4 * q, 4);
        memcpy(&p3, a3 + 4 * q, 4);
        const __m512i b0 = _mm512_set1_epi32(p0), b1 = _mm512_set1_epi32(p1), b2 = _mm512_set1_epi32(p2),
                      b3 = _mm512_set1_epi32(p3);
        for (int j = 0; j < nb; j++) {
            const __m512i wq = _mm512_loadu_si512(w + j * stride + q * 64);
            c[4 * j + 0] = _mm512_dpbusd_epi32(c[4 * j + 0], b0, wq);
            c[4 * j + 1] = _mm512_dpbusd_epi32(c[4 * j + 1], b1, wq);
            c[4 * j + 2] = _mm512_dpbusd_epi32(c[4 * j + 2], b2, wq);
            c[4 * j + 3] = _mm512_dpbusd_epi32(c[4 * j + 3], b3, wq);
        }
    }
}

/* The epilogue of one column block: bias, MultiplyByQuantizedMultiplier, zero point, clamp, int8 store. */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"), always_inline)) static inline void
requant_rows(const __m512i *c, int rows, __m512i vb, __m512i vm, __m512i vs, __mmask16 keep, __m512i zzp, __m512i zlo,
             __m512i zhi, int8_t *y, int64_t ld, bool shl, bool clamp)
{
    for (int r = 0; r < rows; r++)
        _mm_mask_storeu_epi8(y + r * ld, keep,
                             _mm512_cvtsepi32_epi8(requant16(_mm512_add_epi32(c[r], vb), vm, vs, zzp, zlo, zhi, shl,
                                                             clamp)));
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl"), always_inline)) static inline void
requant_block(const __m512i *c, int rows, int64_t col, int64_t n, const int32_t *bias, const int32_t *mult,
              const int32_t *shift, __m512i zzp, __m512i zlo, __m512i zhi, bool clamp, int8_t *y, int64_t ld)
{
    const __m512i vb = _mm512_loadu_si512(bias + col), vm = _mm512_loadu_si512(mult + col);
    const __m512i vs = _mm512_loadu_si512(shift + col);
    const __mmask16 keep = n - col >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - col)) - 1);
    const bool shl = any_left16(vs);
    if (!shl && !clamp)
        requant_rows(c, rows, vb, vm, vs, keep, zzp, zlo, zhi, y + col, ld, false, false);
    else if (!shl)
        requant_rows(c, rows, vb, vm, vs, keep, zzp, zlo, zhi, y + col, ld, false, true);
    else
        requant_rows(c, rows, vb, vm, vs, keep, zzp, zlo, zhi, y + col, ld, true, true);
}

/*
 * The VNNI tile with the requantization fused: the accumulators go through bias, MultiplyByQuantizedMultiplier,
 * zero point and clamp in registers and are stored as int8, without the int32 tile round trip. rows: valid rows
 * (1..4); n: valid columns; y rows are `ld` bytes apart. Column blocks go four at a time (16 accumulators).
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"))) static void
tile_vnni_requant(const uint8_t *a, const int8_t *wp, int64_t k_pad, int64_t n_pad, int64_t n, int rows,
                  const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t zp, int32_t lo, int32_t hi,
                  int8_t *y, int64_t ld)
{
    const __m512i zzp = _mm512_set1_epi32(zp), zlo = _mm512_set1_epi32(lo), zhi = _mm512_set1_epi32(hi);
    const int64_t blocks = n_pad / I8_NR, stride = (k_pad / 4) * I8_NR * 4;
    const bool clamp = lo > -128 || hi < 127;
    for (int64_t b = 0; b < blocks;) {
        __m512i c[16];
        const int64_t left = blocks - b;
        const int nb = left >= 4 ? 4 : (int)left;
        const int8_t *w = wp + b * stride;
        switch (nb) { /* constant block counts, so that c[] stays in registers */
        case 4:
            vnni_blocks(a, w, k_pad, 4, c);
            break;
        case 3:
            vnni_blocks(a, w, k_pad, 3, c);
            break;
        case 2:
            vnni_blocks(a, w, k_pad, 2, c);
            break;
        default:
            vnni_blocks(a, w, k_pad, 1, c);
            break;
        }
        for (int j = 0; j < nb; j++)
            requant_block(c + 4 * j, rows, (b + j) * I8_NR, n, bias, mult, shift, zzp, zlo, zhi, clamp, y, ld);
        b += nb;
    }
}
#endif

void sscma_i8_requant(i8_backend be, const int32_t *acc, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, int per_channel, int64_t n, int32_t zp, int32_t lo, int32_t hi, int8_t *y)
{
#if !defined(I8_X86)
    (void)be; /* the portable kernels only */
#endif
#if defined(I8_X86)
    if (be == I8_VNNI) {
        requant_avx512(acc, bias, mult, shift, per_channel, n, zp, lo, hi, y);
        return;
    }
    if (be == I8_AVX2) {
        requant_avx2(acc, bias, mult, shift, per_channel, n, zp, lo, hi, y);
        return;
    }
#endif
    requant_scalar(acc, bias, mult, shift, per_channel, 0, n, zp, lo, hi, y);
}

/* ---- depthwise, sixteen channels at a time ---- */

/* Channel of lane k (0..7) in the low / high half of vpmaddwd's output on unpacklo / unpackhi of 16 channels. */
static int64_t lane_channel(int half, int k)
{
    return half == 0 ? (k < 4 ? k : k + 4) : (k < 4 ? k + 4 : k + 8);
}

size_t sscma_i8_dw_packed_bytes(int64_t channels, int32_t taps)
{
    return (size_t)(channels / 16) * (size_t)((taps + 1) / 2) * 32 * sizeof(int16_t);
}

void sscma_i8_dw_pack(const int8_t *w, int64_t channels, int32_t taps, int16_t *packed)
{
    int32_t pairs = (taps + 1) / 2;
    for (int64_t b = 0; b < channels / 16; b++)
        for (int32_t p = 0; p < pairs; p++)
            for (int half = 0; half < 2; half++)
                for (int k = 0; k < 8; k++) {
                    int64_t c = b * 16 + lane_channel(half, k);
                    int16_t *d = packed + ((b * pairs + p) * 2 + half) * 16 + 2 * k;
                    d[0] = w[(2 * p) * channels + c];
                    d[1] = 2 * p + 1 < taps ? w[(2 * p + 1) * channels + c] : 0;
                }
}

#if defined(I8_X86)
/*
 * Sixteen channels at a time; with `y` set, the accumulators are requantized in registers (bias, multiplier, zero
 * point, clamp) and stored as int8, else stored to acc as int32.
 */
__attribute__((target("avx2"))) static void dw16_avx2(const int8_t *const *xs, int32_t taps, const int16_t *packed,
                                                     int64_t c16, int32_t zp, int32_t *acc, const int32_t *bias,
                                                     const int32_t *mult, const int32_t *shift, int32_t out_zp,
                                                     int32_t lo_clamp, int32_t hi_clamp, int8_t *y)
{
    int32_t pairs = (taps + 1) / 2;
    const __m256i vzp = _mm256_set1_epi16((int16_t)zp), zero = _mm256_setzero_si256();
    const __m256i vozp = _mm256_set1_epi32(out_zp), vlo = _mm256_set1_epi32(lo_clamp), vhi = _mm256_set1_epi32(hi_clamp);
    for (int64_t b = 0; b < c16 / 16; b++) {
        __m256i lo = zero, hi = zero;
        const int16_t *wp = packed + b * pairs * 32;
        for (int32_t p = 0; p < pairs; p++) {
            const int8_t *x0 = xs[2 * p], *x1 = 2 * p + 1 < taps ? xs[2 * p + 1] : NULL;
            __m256i a = x0 ? _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x0 + b * 16))), vzp)
                           : zero;
            __m256i c = x1 ? _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x1 + b * 16))), vzp)
                           : zero;
            __m256i wl = _mm256_loadu_si256((const __m256i *)(wp + p * 32));
            __m256i wh = _mm256_loadu_si256((const __m256i *)(wp + p * 32 + 16));
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, c), wl));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, c), wh));
        }
        __m256i o0 = _mm256_permute2x128_si256(lo, hi, 0x20), o1 = _mm256_permute2x128_si256(lo, hi, 0x31);
        if (y == NULL) {
            _mm256_storeu_si256((__m256i *)(acc + b * 16), o0);
            _mm256_storeu_si256((__m256i *)(acc + b * 16 + 8), o1);
            continue;
        }
        __m256i r[2] = {o0, o1};
        for (int h = 0; h < 2; h++) {
            int64_t ch = b * 16 + 8 * h;
            __m256i v = r[h];
            if (bias != NULL)
                v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(bias + ch)));
            v = mbqm8(v, _mm256_loadu_si256((const __m256i *)(mult + ch)),
                      _mm256_loadu_si256((const __m256i *)(shift + ch)));
            v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, vozp), vlo), vhi);
            r[h] = v;
        }
        __m128i p0 = _mm_packs_epi32(_mm256_castsi256_si128(r[0]), _mm256_extracti128_si256(r[0], 1));
        __m128i p1 = _mm_packs_epi32(_mm256_castsi256_si128(r[1]), _mm256_extracti128_si256(r[1], 1));
        _mm_storeu_si128((__m128i *)(y + b * 16), _mm_packs_epi16(p0, p1));
    }
}
#endif

bool sscma_i8_dw_requant16(const int8_t *const *xs, int32_t taps, const int16_t *packed, int64_t c16, int32_t zp,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t out_zp, int32_t lo,
                           int32_t hi, int8_t *y)
{
#if defined(I8_X86)
    dw16_avx2(xs, taps, packed, c16, zp, NULL, bias, mult, shift, out_zp, lo, hi, y);
    return true;
#else
    (void)xs, (void)taps, (void)packed, (void)c16, (void)zp, (void)bias, (void)mult, (void)shift, (void)out_zp;
    (void)lo, (void)hi, (void)y;
    return false;
#endif
}

void sscma_i8_dw_acc16(const int8_t *const *xs, int32_t taps, const int16_t *packed, int64_t c16, int32_t zp,
                       int32_t *acc)
{
#if defined(I8_X86)
    dw16_avx2(xs, taps, packed, c16, zp, acc, NULL, NULL, NULL, 0, 0, 0, NULL);
#else
    /* the packing read back in plain C (never reached: the backends that call this are x86 ones) */
    int32_t pairs = (taps + 1) / 2;
    for (int64_t b = 0; b < c16 / 16; b++)
        for (int half = 0; half < 2; half++)
            for (int k = 0; k < 8; k++) {
                int64_t c = b * 16 + lane_channel(half, k);
                int32_t s = 0;
                for (int32_t p = 0; p < pairs; p++) {
                    const int16_t *w = packed + ((b * pairs + p) * 2 + half) * 16 + 2 * k;
                    const int8_t *x0 = xs[2 * p], *x1 = 2 * p + 1 < taps ? xs[2 * p + 1] : NULL;
                    s += (x0 ? x0[c] - zp : 0) * w[0] + (x1 ? x1[c] - zp : 0) * w[1];
                }
                acc[c] = s;
            }
#endif
}

/* ---- depthwise, VNNI: 64 channels x 4 taps per vpdpbusd ---- */

/* Channel of lane i of accumulator v in a 64-channel block: the order the byte and word unpacks produce. */
static int64_t dw4_channel(int v, int i)
{
    return 16 * (i / 4) + 4 * v + (i % 4);
}

int64_t sscma_i8_dw4_patterns(int64_t channels)
{
    int64_t a = channels, b = 64;
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return channels / a;
}

/* The channel of lane L of packed block b, or -1 past the last channel (per pixel only). */
static int64_t dw4_lane_channel(int64_t b, int64_t lane, int64_t channels, bool flat)
{
    int64_t at = b * 64 + lane;
    return flat ? at % channels : at < channels ? at : -1;
}

static int64_t dw4_blocks(int64_t channels, bool flat)
{
    return flat ? sscma_i8_dw4_patterns(channels) : (channels + 63) / 64;
}

size_t sscma_i8_dw4_packed_bytes(int64_t channels, int32_t taps, bool flat)
{
    size_t blocks = (size_t)dw4_blocks(channels, flat), groups = (size_t)((taps + 3) / 4);
    return blocks * groups * 4 * 64 + blocks * 3 * 64 * sizeof(int32_t);
}

void sscma_i8_dw4_pack(const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int64_t channels, int32_t taps, int32_t zp, bool flat, void *packed)
{
    const int64_t blocks = dw4_blocks(channels, flat), groups = (taps + 3) / 4;
    int8_t *wp = packed;
    int32_t *params = (int32_t *)(wp + blocks * groups * 4 * 64);
    for (int64_t b = 0; b < blocks; b++) {
        for (int64_t g = 0; g < groups; g++)
            for (int v = 0; v < 4; v++)
                for (int i = 0; i < 16; i++)
                    for (int j = 0; j < 4; j++) {
                        int64_t c = dw4_lane_channel(b, dw4_channel(v, i), channels, flat), t = 4 * g + j;
                        wp[((b * groups + g) * 4 + v) * 64 + 4 * i + j] = c >= 0 && t < taps ? w[t * channels + c] : 0;
                    }
        for (int v = 0; v < 4; v++)
            for (int i = 0; i < 16; i++) {
                int64_t c = dw4_lane_channel(b, dw4_channel(v, i), channels, flat), at = b * 192 + v * 16 + i;
                int64_t sum = 0;
                for (int32_t t = 0; c >= 0 && t < taps; t++)
                    sum += w[t * channels + c];
                /* x as unsigned (x + 128): sum (x - zp) w = sum (x + 128) w - (zp + 128) sum w */
                params[at] = c >= 0 ? (int32_t)((bias != NULL ? (int64_t)bias[c] : 0) - (zp + 128) * sum) : 0;
                params[at + 64] = c >= 0 ? mult[c] : 0;
                params[at + 128] = c >= 0 ? shift[c] : 0;
            }
    }
}

#if defined(I8_X86)
/*
 * The depthwise kernels' two halves. dw4_step: four taps t[0..3] of 64 lanes (unsigned encoding), interleaved by
 * unpack epi8 then epi16 so that each dword holds one lane's four taps, into the four accumulators (dw4_channel's
 * order) against the group's packed weights wg. dw4_finish: the accumulators requantized with the block's
 * multipliers and shifts (pb + 64, pb + 128), zero point and clamp, and narrowed back to 64 int8 in lane order
 * (packs epi32 then epi16 undo the interleaving).
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void
dw4_step(__m512i acc[4], const __m512i t[4], const int8_t *wg)
{
    __m512i lo01 = _mm512_unpacklo_epi8(t[0], t[1]), hi01 = _mm512_unpackhi_epi8(t[0], t[1]);
    __m512i lo23 = _mm512_unpacklo_epi8(t[2], t[3]), hi23 = _mm512_unpackhi_epi8(t[2], t[3]);
    acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_unpacklo_epi16(lo01, lo23), _mm512_loadu_si512(wg));
    acc[1] = _mm512_dpbusd_epi32(acc[1], _mm512_unpackhi_epi16(lo01, lo23), _mm512_loadu_si512(wg + 64));
    acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_unpacklo_epi16(hi01, hi23), _mm512_loadu_si512(wg + 128));
    acc[3] = _mm512_dpbusd_epi32(acc[3], _mm512_unpackhi_epi16(hi01, hi23), _mm512_loadu_si512(wg + 192));
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl"), always_inline)) static inline __m512i
dw4_finish(__m512i acc[4], const int32_t *pb, __m512i vozp, __m512i vlo, __m512i vhi)
{
    for (int v = 0; v < 4; v++) {
        __m512i r = mbqm16(acc[v], _mm512_loadu_si512(pb + 64 + 16 * v), _mm512_loadu_si512(pb + 128 + 16 * v));
        acc[v] = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(r, vozp), vlo), vhi);
    }
    return _mm512_packs_epi16(_mm512_packs_epi32(acc[0], acc[1]), _mm512_packs_epi32(acc[2], acc[3]));
}
#endif

#if defined(I8_X86)
/*
 * Four taps of 64 channels: the bytes interleaved (unpack epi8 then epi16) so that each dword holds one channel's four
 * taps, multiplied and summed by vpdpbusd into four accumulators of 16 channels (dw4_channel's order); requantized in
 * registers; packs epi32 then epi16 undo the interleaving, so the 64 int8 results come out in channel order. A tap
 * outside the image reads as the input zero point (it then contributes nothing after the bias correction).
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"))) static void
dw_vnni(const int8_t *const *xs, int32_t taps, const void *packed, int64_t channels, int32_t zp, int32_t out_zp,
        int32_t lo_clamp, int32_t hi_clamp, int8_t *y)
{
    const int64_t blocks = (channels + 63) / 64, groups = (taps + 3) / 4;
    const int8_t *wp = packed;
    const int32_t *params = (const int32_t *)(wp + blocks * groups * 4 * 64);
    const __m512i flip = _mm512_set1_epi8((char)0x80), pad = _mm512_set1_epi8((char)(uint8_t)(zp + 128));
    const __m512i vozp = _mm512_set1_epi32(out_zp), vlo = _mm512_set1_epi32(lo_clamp),
                  vhi = _mm512_set1_epi32(hi_clamp);
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t c0 = b * 64, n = channels - c0 < 64 ? channels - c0 : 64;
        const __mmask64 m = n == 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
        const int32_t *pb = params + b * 192;
        __m512i acc[4];
        for (int v = 0; v < 4; v++)
            acc[v] = _mm512_loadu_si512(pb + 16 * v); /* the corrected bias */
        for (int64_t g = 0; g < groups; g++) {
            __m512i t[4];
            for (int j = 0; j < 4; j++) {
                int64_t tap = 4 * g + j;
                t[j] = tap < taps && xs[tap] != NULL
                           ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, xs[tap] + c0), flip)
                           : pad;
            }
            dw4_step(acc, t, wp + (b * groups + g) * 4 * 64);
        }
        const __m512i out = dw4_finish(acc, pb, vozp, vlo, vhi);
        _mm512_mask_storeu_epi8(y + c0, m, out);
    }
}
#endif

#if defined(I8_X86)
/*
 * One output row in the flat layout: chunk k covers bytes 64 k .. 64 k + 63 of the row, all taps of that chunk are
 * 64-byte loads at a fixed offset (fx dil_w - pad_l) channels from it in their input row, masked where they leave
 * the row (those lanes read the zero point); dw4_step and dw4_finish as in dw_vnni.
 */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni,bmi2"))) static void
dw_row_vnni(const int8_t *const *rows, int32_t kh, int32_t kw, int32_t dil_w, int32_t pad_l, int64_t W, int64_t OW,
            const void *packed, int64_t channels, int32_t zp, int32_t out_zp, int32_t lo_clamp, int32_t hi_clamp,
            int8_t *y)
{
    const int32_t taps = kh * kw;
    const int64_t patterns = sscma_i8_dw4_patterns(channels), groups = (taps + 3) / 4;
    const int64_t in_len = W * channels, out_len = OW * channels;
    const int8_t *wp = packed;
    const int32_t *params = (const int32_t *)(wp + patterns * groups * 4 * 64);
    const __m512i flip = _mm512_set1_epi8((char)0x80), raw_zp = _mm512_set1_epi8((char)zp);
    const __m512i pad = _mm512_xor_si512(raw_zp, flip);
    const __m512i vozp = _mm512_set1_epi32(out_zp), vlo = _mm512_set1_epi32(lo_clamp),
                  vhi = _mm512_set1_epi32(hi_clamp);
    const int64_t s_min = -(int64_t)pad_l * channels, s_max = ((int64_t)(kw - 1) * dil_w - pad_l) * channels;
    const int8_t *tap_row[64 + 3]; /* per tap (padded to whole groups): its input row, and its offset in bytes */
    int64_t tap_off[64 + 3];
    for (int32_t t = 0; t < groups * 4; t++) {
        tap_row[t] = t < taps ? rows[t / kw] : NULL;
        tap_off[t] = t < taps ? ((int64_t)(t % kw) * dil_w - pad_l) * channels : 0;
    }
    for (int64_t f0 = 0, p = 0; f0 < out_len; f0 += 64, p = p + 1 == patterns ? 0 : p + 1) {
        const bool inside = f0 + s_min >= 0 && f0 + 64 + s_max <= in_len;
        const int32_t *pb = params + p * 192;
        __m512i acc[4];
        for (int v = 0; v < 4; v++)
            acc[v] = _mm512_loadu_si512(pb + 16 * v);
        for (int64_t g = 0; g < groups; g++) {
            __m512i t[4];
            for (int j = 0; j < 4; j++) {
                const int64_t tap = 4 * g + j;
                const int8_t *row = tap_row[tap];
                if (row == NULL) {
                    t[j] = pad;
                    continue;
                }
                const int64_t at = f0 + tap_off[tap];
                const void *src = (const void *)((uintptr_t)row + (uintptr_t)at); /* masked lanes are never read */
                if (inside) {
                    t[j] = _mm512_xor_si512(_mm512_loadu_si512(src), flip);
                } else {
                    int64_t l0 = at < 0 ? -at : 0, l1 = in_len - at < 64 ? in_len - at : 64;
                    __mmask64 m = l1 <= l0 ? 0
                                           : _bzhi_u64(~(uint64_t)0, (unsigned)l1) & ~_bzhi_u64(~(uint64_t)0, (unsigned)l0);
                    t[j] = _mm512_xor_si512(_mm512_mask_loadu_epi8(raw_zp, m, src), flip);
                }
            }
            dw4_step(acc, t, wp + (p * groups + g) * 4 * 64);
        }
        const __m512i out = dw4_finish(acc, pb, vozp, vlo, vhi);
        const int64_t n = out_len - f0 < 64 ? out_len - f0 : 64;
        _mm512_mask_storeu_epi8(y + f0, _bzhi_u64(~(uint64_t)0, (unsigned)n), out);
    }
}
#endif

bool sscma_i8_dw_row_vnni(const int8_t *const *rows, int32_t kh, int32_t kw, int32_t dil_w, int32_t pad_l, int64_t W,
                          int64_t OW, const void *packed, int64_t channels, int32_t zp, int32_t out_zp, int32_t lo,
                          int32_t hi, int8_t *y)
{
#if defined(I8_X86)
    dw_row_vnni(rows, kh, kw, dil_w, pad_l, W, OW, packed, channels, zp, out_zp, lo, hi, y);
    return true;
#else
    (void)rows, (void)kh, (void)kw, (void)dil_w, (void)pad_l, (void)W, (void)OW, (void)packed, (void)channels;
    (void)zp, (void)out_zp, (void)lo, (void)hi, (void)y;
    return false;
#endif
}

bool sscma_i8_dw_requant_vnni(const int8_t *const *xs, int32_t taps, const void *packed, int64_t channels,
                              int32_t zp, int32_t out_zp, int32_t lo, int32_t hi, int8_t *y)
{
#if defined(I8_X86)
    dw_vnni(xs, taps, packed, channels, zp, out_zp, lo, hi, y);
    return true;
#else
    (void)xs, (void)taps, (void)packed, (void)channels, (void)zp, (void)out_zp, (void)lo, (void)hi, (void)y;
    return false;
#endif
}

/* ---- add ---- */

static void add_scalar(const int8_t *a, const int8_t *b, int64_t from, int64_t n, int32_t a_off, int32_t b_off,
                       int32_t left_shift, int32_t ma, int32_t sa, int32_t mb, int32_t sb, int32_t mo, int32_t so,
                       int32_t zp, int32_t lo, int32_t hi, int8_t *y)
{
    for (int64_t i = from; i < n; i++) {
        int32_t x1 = fx_mul_by_qm_lt1((a[i] + a_off) * (1 << left_shift), ma, sa);
        int32_t x2 = fx_mul_by_qm_lt1((b[i] + b_off) * (1 << left_shift), mb, sb);
        int32_t v = fx_mul_by_qm_lt1(x1 + x2, mo, so) + zp;
        y[i] = (int8_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

#if defined(I8_X86)
__attribute__((target("avx2"))) static void add_avx2(const int8_t *a, const int8_t *b, int64_t n, int32_t a_off,
                                                    int32_t b_off, int32_t left_shift, int32_t ma, int32_t sa,
                                                    int32_t mb, int32_t sb, int32_t mo, int32_t so, int32_t zp,
                                                    int32_t lo, int32_t hi, int8_t *y)
{
    const __m256i va = _mm256_set1_epi32(a_off), vb = _mm256_set1_epi32(b_off);
    const __m256i vma = _mm256_set1_epi32(ma), vsa = _mm256_set1_epi32(sa), vmb = _mm256_set1_epi32(mb),
                  vsb = _mm256_set1_epi32(sb), vmo = _mm256_set1_epi32(mo), vso = _mm256_set1_epi32(so);
    const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(a + i)));
        __m256i x2 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + i)));
        x1 = mbqm8(_mm256_slli_epi32(_mm256_add_epi32(x1, va), left_shift), vma, vsa);
        x2 = mbqm8(_mm256_slli_epi32(_mm256_add_epi32(x2, vb), left_shift), vmb, vsb);
        __m256i v = _mm256_add_epi32(mbqm8(_mm256_add_epi32(x1, x2), vmo, vso), vzp);
        v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(y + i), _mm_packs_epi16(p16, p16));
    }
    add_scalar(a, b, i, n, a_off, b_off, left_shift, ma, sa, mb, sb, mo, so, zp, lo, hi, y);
}
#endif

void sscma_i8_add(i8_backend be, const int8_t *a, const int8_t *b, int64_t n, int32_t a_off, int32_t b_off,
                  int32_t left_shift, int32_t ma, int32_t sa, int32_t mb, int32_t sb, int32_t mo, int32_t so,
                  int32_t zp, int32_t lo, int32_t hi, int8_t *y)
{
#if !defined(I8_X86)
    (void)be; /* the portable kernels only */
#endif
#if defined(I8_X86)
    if (be != I8_PORTABLE) {
        add_avx2(a, b, n, a_off, b_off, left_shift, ma, sa, mb, sb, mo, so, zp, lo, hi, y);
        return;
    }
#endif
    add_scalar(a, b, 0, n, a_off, b_off, left_shift, ma, sa, mb, sb, mo, so, zp, lo, hi, y);
}

bool sscma_i8_tile_requant(i8_backend be, const void *a, const void *packed, int64_t k_pad, int64_t n_pad, int64_t n,
                           int rows, const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t zp,
                           int32_t lo, int32_t hi, int8_t *y, int64_t ld)
{
#if defined(I8_X86)
    if (be == I8_VNNI) {
        tile_vnni_requant(a, packed, k_pad, n_pad, n, rows, bias, mult, shift, zp, lo, hi, y, ld);
        return true;
    }
#endif
    (void)be, (void)a, (void)packed, (void)k_pad, (void)n_pad, (void)n, (void)rows, (void)bias, (void)mult;
    (void)shift, (void)zp, (void)lo, (void)hi, (void)y, (void)ld;
    return false;
}
