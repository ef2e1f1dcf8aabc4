/*
 * The gradient sum of a data-parallel job (docs/distributed.md, "Gradients"), overlapped with the backward pass:
 * the trainable gradients are laid out in the order the backward pass finishes them (the node that last adds to a
 * parameter's gradient, latest first; parameter order among equals), cut into buckets of about
 * SSCMA_MPI_BUCKET_KB of doubles, and each bucket's sum starts (lib/train/dist.h, MPI_Iallreduce) as soon as the
 * backward has passed every node that writes into it; the loss travels in the last bucket. finish waits for all of
 * them and writes back the mean over the ranks. The layout depends only on the graph, so every rank starts the same
 * sums in the same order; each value is a sum of the ranks' doubles, as one MPI_Allreduce of everything gives. No
 * MPI here: the graph calls a hook after each node's backward (graph.h backward_hook), which calls dist.h.
 */
#ifndef SSCMA_LIB_TRAIN_DIST_GRAD_H
#define SSCMA_LIB_TRAIN_DIST_GRAD_H

#include "sscma/model.h"
#include "train/dist.h"

typedef struct sscma_grad_sync sscma_grad_sync;

sscma_status sscma_grad_sync_create(sscma_context *ctx, sscma_dist *dist, sscma_grad_sync **out);
void sscma_grad_sync_destroy(sscma_grad_sync *s); /* NULL-safe */

/* Before a backward pass of `model`: lays the gradients out for its current plan and hooks its graph. */
sscma_status sscma_grad_sync_begin(sscma_grad_sync *s, sscma_model *model);
/* After the backward pass (also after a failed one: it unhooks the graph): starts the buckets not yet started,
 * waits for every sum, and replaces each trainable gradient by its mean over the ranks and *loss (this rank's
 * mean loss on entry) by the ranks' mean. */
sscma_status sscma_grad_sync_finish(sscma_grad_sync *s, sscma_model *model, double *loss);

/* Figures for the log: values per step (gradients and the loss), buckets per step, steps, and seconds this thread
 * spent in the sums since the last reset (starting, progressing and waiting; waiting for the slowest rank
 * included). */
void sscma_grad_sync_stats(const sscma_grad_sync *s, int64_t *values, int32_t *buckets, int64_t *steps,
                           double *seconds);
void sscma_grad_sync_reset_stats(sscma_grad_sync *s);

#endif /* SSCMA_LIB_TRAIN_DIST_GRAD_H */
