/* TFLite planners, options writers and readers of the activations in quant/k_activations.c. */
#include <math.h>

#include "export/tflite_private.h"
#include "export/tflite_schema.h"

/* RELU, RELU6 or RELU_N1_TO_1, whichever has op's range (TFLite has no general clamp). */
sscma_status qm_tfl_plan_clamp(plan *p, const qm_op *op, tfl_op *o)
{
    o->version = tfl_int8_op(p, op) ? 2 : 1;
    if (op->clip_lo == 0.0f && isinf(op->clip_hi) && op->clip_hi > 0.0f)
        o->code = TFL_OP_RELU;
    else if (op->clip_lo == 0.0f && op->clip_hi == 6.0f)
        o->code = TFL_OP_RELU6;
    else if (op->clip_lo == -1.0f && op->clip_hi == 1.0f)
        o->code = TFL_OP_RELU_N1_TO_1, o->version = 1; /* TFLite's kernel takes version 1 only */
    else
        return tfl_unsupported(op, "TFLite has no operator for this clamp range");
    return SSCMA_OK;
}

uint32_t qm_tfl_options_exp(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_EXP, type);
}

uint32_t qm_tfl_options_leaky_relu(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    fb_table_start(b);
    fb_field_f32(b, 0, o->src->alpha);
    *type = TFL_OPT_LEAKY_RELU;
    return fb_table_end(b);
}

sscma_status qm_tfl_read_clamp(reader *rd, tfl_read_op *ro, qm_op *op)
{
    (void)rd;
    op->clip_lo = ro->code == TFL_OP_RELU_N1_TO_1 ? -1.0f : 0.0f;
    op->clip_hi = ro->code == TFL_OP_RELU6 ? 6.0f : ro->code == TFL_OP_RELU_N1_TO_1 ? 1.0f : INFINITY;
    return SSCMA_OK;
}

sscma_status qm_tfl_read_leaky_relu(reader *rd, tfl_read_op *ro, qm_op *op)
{
    op->alpha = fb_get_f32(&rd->r, ro->opt, 0, 0.0f);
    if (!isfinite(op->alpha))
        return tfl_bad_op(rd, ro->index, ro->code, "alpha must be finite");
    return SSCMA_OK;
}
