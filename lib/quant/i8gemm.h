/*
 * The int8 matrix product behind convolutions and fully connected layers: C[4][N] = A[4][K] x W[N][K]^T in int32,
 * for tiles of 4 rows (output pixels), with the weights packed once per layer for the backend chosen at prepare
 * time. Integer sums are exact whatever the order, so every backend gives the same bits (tests compare them):
 *
 *   VNNI      A as uint8 (x + 128), W packed [N/16][K/4][16][4] int8, vpdpbusd (AVX512-VNNI with VL, 256-bit)
 *   AVX2      A as int16, W packed [N/16][K/2][16][2] int16, vpmaddwd
 *   portable  A as int16, the AVX2 packing, plain C
 *
 * The caller corrects for A's encoding: with input zero point z, sum (x - z) w = C - c * sum_k w, c = 128 + z for
 * VNNI and z otherwise (sscma_i8_pack returns sum_k w per column).
 */
#ifndef SSCMA_LIB_QUANT_I8GEMM_H
#define SSCMA_LIB_QUANT_I8GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum i8_backend { I8_PORTABLE = 0, I8_AVX2 = 1, I8_VNNI = 2 } i8_backend;

#define I8_MR 4  /* rows per tile */
#define I8_NR 16 /* columns per packed block */

/* The best backend this CPU runs, or the one SSCMA_INT8_KERNELS names (portable, avx2, vnni; for tests). */
i8_backend sscma_i8_backend(void);

/* sscma_i8_backend(), computed once per process. */
i8_backend sscma_i8_backend_cached(void);

/* K rounded up for the backend (4 for VNNI, 2 otherwise) and N rounded up to I8_NR. */
int64_t sscma_i8_k_pad(i8_backend be, int64_t k);
int64_t sscma_i8_n_pad(int64_t n);
/* Bytes of one A element (1 for VNNI, 2 otherwise). */
size_t sscma_i8_a_size(i8_backend be);
/* Bytes of the packed weights. */
size_t sscma_i8_packed_bytes(i8_backend be, int64_t n, int64_t k);

/* Packs W [n][k] (row-major int8) into `packed` (sscma_i8_packed_bytes) and stores sum_k W[j][k] in wsum[j]. */
void sscma_i8_pack(i8_backend be, const int8_t *w, int64_t n, int64_t k, void *packed, int32_t *wsum);

/* Writes n int8 values into A's encoding at element `at` of row a; fill writes n copies of x. */
void sscma_i8_a_copy(i8_backend be, void *a, int64_t at, const int8_t *x, int64_t n);
void sscma_i8_a_fill(i8_backend be, void *a, int64_t at, int32_t x, int64_t n);

/*
 * The taps k0 .. k1 - 1 of a k-tap window (dilation 1) starting at input index i0 that fall inside 0 .. n - 1; an
 * empty run (k0 == k1) where none does, padding wider than the window included.
 */
static inline void sscma_i8_window_run(int64_t i0, int64_t n, int64_t k, int64_t *k0, int64_t *k1)
{
    int64_t a = i0 < 0 ? -i0 : 0, b = n - i0 < k ? n - i0 : k;
    a = a > k ? k : a;
    *k0 = a;
    *k1 = b < a ? a : b;
}

/* The geometry of a convolution with groups 1 as the GEMM sees it (NHWC input; M output pixels; K = kh kw C). */
typedef struct i8_geom {
    int64_t H, W, C, OH, OW, M, K, k_pad;
    int32_t kh, kw, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
    int32_t zp;  /* the input's zero point: what padding reads as */
    bool direct; /* 1x1, stride 1, no padding: row m of A is pixel m of x */
} i8_geom;

/*
 * Fills the I8_MR rows of A for output pixels m0..m0 + 3 (the im2col of x; rows past M read as zeros, K..k_pad as
 * zeros) with whole-vector copies. Returns false (nothing done) for backends without the fast form: the caller then
 * builds A with sscma_i8_a_copy and sscma_i8_a_fill.
 */
bool sscma_i8_gather(i8_backend be, const i8_geom *g, const int8_t *x, int64_t m0, void *a);

/* c[r * n_pad + j] = sum_k a[r][k] * W[j][k] for r < I8_MR and j < n_pad; a rows are k_pad elements apart. */
void sscma_i8_tile(i8_backend be, const void *a, const void *packed, int64_t k_pad, int64_t n_pad, int32_t *c);

/*
 * The tile and the per-channel requantization of its valid rows (1..4) and columns (n) in one pass, int8 rows `ld`
 * bytes apart at y; bias, mult and shift have n_pad entries. Returns false (nothing done) for backends without the
 * fused form: the caller then runs sscma_i8_tile and sscma_i8_requant.
 */
bool sscma_i8_tile_requant(i8_backend be, const void *a, const void *packed, int64_t k_pad, int64_t n_pad, int64_t n,
                           int rows, const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t zp,
                           int32_t lo, int32_t hi, int8_t *y, int64_t ld);

/*
 * Requantizes n accumulators of one output row: y[j] = clamp(MBQM(acc[j] + bias[j], mult[j], shift[j]) + zp, lo, hi)
 * with TFLite's MultiplyByQuantizedMultiplier (fixedpoint.h), bit for bit on every backend. bias may be NULL;
 * per_channel 0 uses mult[0] and shift[0] for every j.
 */
void sscma_i8_requant(i8_backend be, const int32_t *acc, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, int per_channel, int64_t n, int32_t zp, int32_t lo, int32_t hi, int8_t *y);

/*
 * TFLite's int8 ADD on n elements: each input (x + off) scaled by 2^left_shift and its multiplier (shift <= 0), summed,
 * requantized by (mo, so), plus zp, clamped to lo..hi. Bit for bit on every backend.
 */
void sscma_i8_add(i8_backend be, const int8_t *a, const int8_t *b, int64_t n, int32_t a_off, int32_t b_off,
                  int32_t left_shift, int32_t ma, int32_t sa, int32_t mb, int32_t sb, int32_t mo, int32_t so,
                  int32_t zp, int32_t lo, int32_t hi, int8_t *y);

/*
 * Depthwise convolution with depth multiplier 1, sixteen channels at a time (AVX2 backends): the taps' weights are
 * packed in pairs of taps, interleaved in the channel order vpmaddwd produces. acc[c] = sum_t (x_t[c] - zp) w_t[c]
 * for c < c16 (a multiple of 16); xs[t] == NULL marks a tap outside the image (it contributes nothing).
 */
size_t sscma_i8_dw_packed_bytes(int64_t channels, int32_t taps);
void sscma_i8_dw_pack(const int8_t *w, int64_t channels, int32_t taps, int16_t *packed); /* w: [taps][channels] */
void sscma_i8_dw_acc16(const int8_t *const *xs, int32_t taps, const int16_t *packed, int64_t c16, int32_t zp,
                       int32_t *acc);
/* The same, requantized in registers (per-channel bias (may be NULL), mult, shift; zero point; clamp) into y as
 * int8. Returns false where there is no such kernel (the caller then requantizes sscma_i8_dw_acc16's sums). */
bool sscma_i8_dw_requant16(const int8_t *const *xs, int32_t taps, const int16_t *packed, int64_t c16, int32_t zp,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t out_zp, int32_t lo,
                           int32_t hi, int8_t *y);

/*
 * Depthwise convolution with depth multiplier 1 on the VNNI backend: 64 lanes and four taps per vpdpbusd, the
 * requantization in registers. The packing holds, per block of 64 lanes, the weights in the kernel's interleaved
 * order, then the bias corrected for the unsigned encoding of x (bias - (zp + 128) sum_t w), the multipliers and the
 * shifts in the accumulators' lane order. w: [taps][channels]; bias may be NULL; zp: the input's zero point.
 *
 * Two lane layouts. Per pixel (flat == false): block b holds channels 64 b .. 64 b + 63 of one pixel
 * (ceil(channels / 64) blocks). Flat (flat == true, stride 1 along W): an output row of OW pixels is one run of
 * OW * channels bytes, and lane L of the run's 64-byte chunk k is channel (64 k + L) mod channels; the chunks' weights
 * repeat with a period of sscma_i8_dw4_patterns(channels) chunks, which is the number of blocks packed.
 */
int64_t sscma_i8_dw4_patterns(int64_t channels); /* channels / gcd(channels, 64) */
size_t sscma_i8_dw4_packed_bytes(int64_t channels, int32_t taps, bool flat);
void sscma_i8_dw4_pack(const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int64_t channels, int32_t taps, int32_t zp, bool flat, void *packed);
/* One pixel (per-pixel packing): xs[t] == NULL marks a tap outside the image. False where the kernel does not exist. */
bool sscma_i8_dw_requant_vnni(const int8_t *const *xs, int32_t taps, const void *packed, int64_t channels,
                              int32_t zp, int32_t out_zp, int32_t lo, int32_t hi, int8_t *y);
/*
 * One output row (flat packing, stride 1 along W): rows[fy] is input row iy0 + fy dil_h (W pixels) or NULL where it is
 * outside the image; tap (fy, fx) reads pixel ox + fx dil_w - pad_l, and pixels outside 0..W-1 read as zp. y: OW
 * pixels. False where the kernel does not exist.
 */
bool sscma_i8_dw_row_vnni(const int8_t *const *rows, int32_t kh, int32_t kw, int32_t dil_w, int32_t pad_l, int64_t W,
                          int64_t OW, const void *packed, int64_t channels, int32_t zp, int32_t out_zp, int32_t lo,
                          int32_t hi, int8_t *y);

#endif /* SSCMA_LIB_QUANT_I8GEMM_H */
