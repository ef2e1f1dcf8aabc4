/*
 * TFLite planners, options writers and readers of quant/k_space.c's kinds: SPACE_TO_DEPTH and DEPTH_TO_SPACE
 * (SpaceToDepthOptions / DepthToSpaceOptions: 0 block_size:int). The shapes come from the tensors; the block size
 * from the options, checked against them by the kinds' validation.
 */
#include "export/tflite_private.h"
#include "export/tflite_schema.h"

sscma_status qm_tfl_plan_space_depth(plan *p, const qm_op *op, tfl_op *o)
{
    o->code = op->kind == QM_SPACE_TO_DEPTH ? TFL_OP_SPACE_TO_DEPTH : TFL_OP_DEPTH_TO_SPACE;
    /* TFLite's op versions: SPACE_TO_DEPTH on int8 is version 2; DEPTH_TO_SPACE's version 2 is uint8, int8 is 1 */
    o->version = op->kind == QM_SPACE_TO_DEPTH && tfl_int8_op(p, op) ? 2 : 1;
    return SSCMA_OK;
}

uint32_t qm_tfl_options_space_depth(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    fb_table_start(b);
    fb_field_i32(b, 0, o->src->block_size);
    *type = o->src->kind == QM_SPACE_TO_DEPTH ? TFL_OPT_SPACE_TO_DEPTH : TFL_OPT_DEPTH_TO_SPACE;
    return fb_table_end(b);
}

sscma_status qm_tfl_read_space_depth(reader *rd, tfl_read_op *ro, qm_op *op)
{
    op->block_size = fb_get_i32(&rd->r, ro->opt, 0, 0);
    if (op->block_size < 1 || op->block_size > 64)
        return tfl_bad_op(rd, ro->index, ro->code, "block_size must be 1..64");
    return SSCMA_OK;
}
