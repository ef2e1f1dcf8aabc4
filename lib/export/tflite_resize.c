/*
 * TFLite planner, options writer and reader of the resize kinds in quant/k_resize.c: RESIZE_NEAREST_NEIGHBOR and
 * RESIZE_BILINEAR, whose second input is the output size, a constant int32 [2].
 */
#include "export/tflite_private.h"
#include "export/tflite_schema.h"

sscma_status qm_tfl_plan_resize(plan *p, const qm_op *op, tfl_op *o)
{
    const qm_tensor *y = &p->q->t[op->out];
    int32_t two = 2;
    const int32_t size[2] = {(int32_t)y->dims[1], (int32_t)y->dims[2]};
    const bool bilinear = op->kind == QM_RESIZE_BILINEAR;
    o->code = bilinear ? TFL_OP_RESIZE_BILINEAR : TFL_OP_RESIZE_NEAREST_NEIGHBOR, o->n_in = 2;
    /* the versions TFLite's converter gives: 3 with the flags (half_pixel_centers for bilinear), 2 for int8 */
    o->version = (bilinear ? op->half_pixel : op->half_pixel || op->align_corners) ? 3 : tfl_int8_op(p, op) ? 2 : 1;
    return tfl_const_i32(p, "size", size, 2, 1, &two, &o->in[1]);
}

/* The flags, written only where set: a resize without them is written as before they were read. */
uint32_t qm_tfl_options_resize(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    const bool bilinear = o->src->kind == QM_RESIZE_BILINEAR;
    fb_table_start(b);
    if (o->src->align_corners)
        fb_field_u8(b, bilinear ? 2 : 0, 1);
    if (o->src->half_pixel)
        fb_field_u8(b, bilinear ? 3 : 1, 1);
    *type = bilinear ? TFL_OPT_RESIZE_BILINEAR : TFL_OPT_RESIZE_NEAREST;
    return fb_table_end(b);
}

/*
 * NHWC input and output of the same batch and channels, the size a constant int32 [2] equal to the output's H and W
 * (TFLite sizes the output from it); bilinear refuses both flags at once, as TFLite does.
 */
sscma_status qm_tfl_read_resize(reader *rd, tfl_read_op *ro, qm_op *op)
{
    const bool bilinear = ro->code == TFL_OP_RESIZE_BILINEAR;
    op->align_corners = fb_get_u8(&rd->r, ro->opt, bilinear ? 2 : 0, 0) != 0;
    op->half_pixel = fb_get_u8(&rd->r, ro->opt, bilinear ? 3 : 1, 0) != 0;
    if (bilinear && op->align_corners && op->half_pixel)
        return tfl_bad_op(rd, ro->index, ro->code, "align_corners and half_pixel_centers exclude each other");
    const qm_tensor *x = ro->xt, *y = ro->yt;
    if (x->rank != 4 || y->rank != 4 || x->dims[0] != y->dims[0] || x->dims[3] != y->dims[3] || x->dims[1] < 1 ||
        x->dims[2] < 1)
        return tfl_bad_op(rd, ro->index, ro->code, "needs NHWC input and output with the same batch and channels");
    const qm_tensor *s = ro->n_in == 2 && ro->ids[1] >= 0 ? &rd->q->t[ro->ids[1]] : NULL;
    if (s == NULL || !s->constant || s->dtype != SSCMA_DTYPE_I32 || s->rank != 1 || s->dims[0] != 2)
        return tfl_bad_op(rd, ro->index, ro->code, "the size must be a constant int32 [2]");
    const int32_t *size = s->data;
    if (size[0] < 1 || size[1] < 1 || size[0] != y->dims[1] || size[1] != y->dims[2])
        return tfl_bad_op(rd, ro->index, ro->code, "the size differs from the output's height and width");
    return SSCMA_OK;
}
