/* TFLite planners, options writers and readers of the binary ops and MEAN in quant/k_binary.c. */
#include "export/tflite_private.h"
#include "export/tflite_schema.h"

/* MEAN: its axes as the constant int32 tensor TFLite wants for its second input. */
sscma_status qm_tfl_plan_mean(plan *p, const qm_op *op, tfl_op *o)
{
    int32_t axes[4], n = 0;
    for (int32_t a = 0; a < 4; a++)
        if (op->reduce_axes >> a & 1)
            axes[n++] = a;
    if (n == 0)
        return tfl_unsupported(op, "a mean over no axis");
    o->code = TFL_OP_MEAN, o->version = tfl_int8_op(p, op) ? 2 : 1, o->n_in = 2;
    return tfl_const_i32(p, "axes", axes, n, 1, &n, &o->in[1]);
}

uint32_t qm_tfl_options_sub(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    return tfl_act_options(b, o, TFL_OPT_SUB, type);
}

uint32_t qm_tfl_options_mul(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    return tfl_act_options(b, o, TFL_OPT_MUL, type);
}

uint32_t qm_tfl_options_minmax(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_MAXIMUM_MINIMUM, type);
}

uint32_t qm_tfl_options_mean(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    fb_table_start(b);
    fb_field_u8(b, 0, o->src->keep_dims ? 1 : 0);
    *type = TFL_OPT_REDUCER;
    return fb_table_end(b);
}

/* MAXIMUM and MINIMUM: two inputs, no options the runtime needs. */
sscma_status qm_tfl_read_minmax(reader *rd, tfl_read_op *ro, qm_op *op)
{
    if (ro->n_in != 2 || ro->ids[1] < 0)
        return tfl_bad_op(rd, ro->index, ro->code, "needs 2 inputs");
    op->in[1] = ro->ids[1], op->n_in = 2;
    return SSCMA_OK;
}

/* MEAN: the axes from the constant int32 second input (negative ones count from the end, repeats ignored). */
sscma_status qm_tfl_read_mean(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    uint32_t bytes = 0;
    if (ro->n_in != 2 || (uint32_t)ro->tin[1] >= rd->n_tensors)
        return tfl_bad_op(rd, ro->index, ro->code, "needs the axis input");
    fb_table at = fb_vector_table(r, rd->tensors, (uint32_t)ro->tin[1]);
    const uint8_t *ad = tfl_buffer_data(rd, fb_get_u32(r, at, 2, 0), &bytes);
    if (ad == NULL || bytes == 0 || bytes % 4 != 0 || bytes > 64 || fb_get_u8(r, at, 1, 0) != TFL_TYPE_INT32)
        return tfl_bad_op(rd, ro->index, ro->code, "the axes must be a constant, non-empty int32 tensor");
    const int32_t rank = ro->xt->rank;
    for (uint32_t k = 0; k < bytes / 4; k++) {
        int32_t a = (int32_t)((uint32_t)ad[4 * k] | (uint32_t)ad[4 * k + 1] << 8 | (uint32_t)ad[4 * k + 2] << 16 |
                              (uint32_t)ad[4 * k + 3] << 24);
        if (a < -rank || a >= rank)
            return tfl_bad_op(rd, ro->index, ro->code, "an axis is outside the input's rank");
        a = a < 0 ? a + rank : a;
        if (a == 0)
            return tfl_bad_op(rd, ro->index, ro->code, "a mean over the batch axis is not supported");
        op->reduce_axes |= 1 << a;
    }
    op->keep_dims = fb_get_u8(r, ro->opt, 0, 0) != 0;
    return SSCMA_OK;
}
