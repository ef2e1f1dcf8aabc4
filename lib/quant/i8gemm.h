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
 * Depthwise convolution with depth multiplier 1 on the VNNI backend: 64 channels and four taps per vpdpbusd, the
 * requantization in registers. The packing holds the weights in the kernel's interleaved order, then per 64-channel
 * block the bias corrected for the unsigned encoding of x (bias - (zp + 128) sum_t w), the multipliers and the
 * shifts in the accumulators' lane order. w: [taps][channels]; bias may be NULL; zp: the input's zero point.
 * xs[t] == NULL marks a tap outside the image. Returns false where the kernel does not exist.
 */
size_t sscma_i8_dw4_packed_bytes(int64_t channels, int32_t taps);
void sscma_i8_dw4_pack(const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int64_t channels, int32_t taps, int32_t zp, void *packed);
bool sscma_i8_dw_requant_vnni(const int8_t *const *xs, int32_t taps, const void *packed, int64_t channels,
                              int32_t zp, int32_t out_zp, int32_t lo, int32_t hi, int8_t *y);

#endif /* SSCMA_LIB_QUANT_I8GEMM_H */
