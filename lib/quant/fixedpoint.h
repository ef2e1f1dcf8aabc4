/*
 * Integer arithmetic of the TFLite quantization spec, written from its description: the rounding doubling high
 * multiply, rounding division by a power of two, requantization by a multiplier and shift (double rounding, TFLite's
 * default build), and the Q-format fixed-point functions the int8 softmax uses (exp on negative values, 1 / (1 + x)).
 * A raw int32 value in Qm.n has m integer bits and 31 - m fractional bits.
 */
#ifndef SSCMA_LIB_QUANT_FIXEDPOINT_H
#define SSCMA_LIB_QUANT_FIXEDPOINT_H

#include <stdint.h>

/* round(a * b / 2^31), ties away from zero; the one overflowing case (INT32_MIN squared) saturates. */
static inline int32_t fx_rdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent 0..31). */
static inline int32_t fx_rdiv_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31): TFLite's MultiplyByQuantizedMultiplier. */
static inline int32_t fx_mul_by_qm(int32_t x, int32_t multiplier, int32_t shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return fx_rdiv_pot(fx_rdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

/* The same for a multiplier below one (shift <= 0). */
static inline int32_t fx_mul_by_qm_lt1(int32_t x, int32_t multiplier, int32_t shift)
{
    return fx_rdiv_pot(fx_rdhm(x, multiplier), -shift);
}

/* x * 2^exponent saturated to int32 (exponent 1..30). */
static inline int32_t fx_sat_shl(int32_t x, int exponent)
{
    int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), a and result in Q0.31. */
static inline int32_t fx_exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;   /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    int32_t x = a + (1 << 28);                   /* a + 1/8 */
    int32_t x2 = fx_rdhm(x, x);
    int32_t x3 = fx_rdhm(x2, x);
    int32_t x4 = fx_rdhm(x2, x2);
    int32_t x4_over_4 = fx_rdiv_pot(x4, 2);
    int32_t poly = fx_rdiv_pot(fx_rdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + fx_rdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 in Q5.26 (the softmax's scaled differences); result in Q0.31. */
static inline int32_t fx_exp_on_negative_q5(int32_t a)
{
    const int fractional = 26;
    const int32_t one_quarter = 1 << (fractional - 2);
    const int32_t mask = one_quarter - 1;
    int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
    int32_t result = fx_exp_quarter(fx_sat_shl(a_mod_quarter_minus_quarter, 5));
    int32_t remainder = a_mod_quarter_minus_quarter - a;
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int e = -2; e <= 4; e++)
        if (remainder & (1 << (fractional + e)))
            result = fx_rdhm(result, multipliers[e + 2]);
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), in Q0.31 (Newton-Raphson on the half denominator, in Q2.29). */
static inline int32_t fx_one_over_one_plus_x(int32_t a)
{
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540;
    int32_t x = c48_17 + fx_rdhm(half_denominator, cneg32_17);
    for (int i = 0; i < 3; i++) {
        int32_t hdx = fx_rdhm(half_denominator, x);
        int32_t one_minus = (1 << 29) - hdx;
        x = x + fx_sat_shl(fx_rdhm(x, one_minus), 2);
    }
    return fx_sat_shl(x, 1);
}

#endif /* SSCMA_LIB_QUANT_FIXEDPOINT_H */
