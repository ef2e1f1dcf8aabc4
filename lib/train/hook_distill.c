/*
 * Knowledge distillation (the config's top-level `distill`; docs/training.md, "Knowledge distillation"): a teacher
 * model runs in evaluation mode beside the student on the same augmented batch, and the student learns
 *     loss = task loss + loss_weight * tau^2 * KL(softmax(t / tau) || softmax(s / tau))
 * over the "logits" output of both (a classifier's [N, C]; FOMO's [N, H, W, C + 1], a softmax per cell, the mean
 * over cells), as mmrazor's KLDivergence. The KL term is an op in the student's graph (ops/loss.c, kl_div) fed by an
 * input "teacher_logits" that this hook fills before each forward, so backward, the NaN guard and the logger see
 * the total as they see any loss. attach adds the input and the two nodes to the student's graph and makes their sum
 * the loss; destroy removes them, so the model is as it was once the trainer is gone.
 *
 * The teacher is built from the model config its checkpoint carries and loaded strictly from it; it belongs to this
 * hook alone: not in the optimizer (made from the student before the hook attaches), not in checkpoints (the trainer
 * saves the student's parameters), never in training mode (its batch norms keep their statistics). It has no state
 * to resume: a resumed run rebuilds it from the same file.
 */
#include <stdio.h>
#include <string.h>

#include "graph/model_private.h"
#include "io/checkpoint.h"
#include "train/hook.h"
#include "train/hook_config.h"
#include "zoo/zoo.h"

#define TEACHER_INPUT "teacher_logits"

typedef struct distill_hook {
    sscma_hook base;
    sscma_model *teacher;
    sscma_kl_div_attrs attrs;
    int64_t teacher_batch; /* what the teacher is prepared for; 0 none */
    /* the student's graph before attach added to it (restored by destroy); student NULL until attached */
    sscma_model *student;
    const sscma_graph *graph;
    int32_t n_values, n_nodes, task_loss;
} distill_hook;

typedef struct distill_cfg {
    const char *teacher_ckpt;
    double tau, loss_weight;
} distill_cfg;

static const sscma_field distill_fields[] = {
    SSCMA_FIELD_STRING(distill_cfg, teacher_ckpt, NULL),
    SSCMA_FIELD(distill_cfg, tau, 1.0),
    SSCMA_FIELD(distill_cfg, loss_weight, 1.0),
    SSCMA_FIELD_END,
};

/* The value behind a model's output `name`, -1 when it has none. */
static int32_t output_value(const sscma_model *m, const char *name)
{
    const sscma_model_io_table *io = sscma_model_io(m);
    for (int32_t k = 0; k < io->n_outputs; k++)
        if (strcmp(io->output_names[k], name) == 0)
            return io->outputs[k];
    return -1;
}

/* Whether two values have the same shape apart from the batch; `a` formatted into `text` for messages. */
static bool same_sample_shape(const sscma_desc *a, const sscma_desc *b, char *text, size_t size)
{
    sscma_desc x = *a, y = *b;
    x.dims[0] = y.dims[0] = 1;
    sscma_desc_format(&x, text, size);
    return sscma_desc_equal(&x, &y);
}

/* The teacher and the student take the same images and give logits of the same shape. */
static sscma_status check_pair(const distill_hook *d, const sscma_model *student, const char *path)
{
    const sscma_graph *sg = sscma_model_graph(student), *tg = sscma_model_graph(d->teacher);
    int32_t s_logits = output_value(student, "logits"), t_logits = output_value(d->teacher, "logits");
    if (s_logits < 0)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "distill: the %s model has no \"logits\" output to distil "
                          "(classifiers and FOMO have one)", sscma_model_family(student));
    if (t_logits < 0)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, path, "distill.teacher_ckpt: the teacher (%s) has no \"logits\" "
                          "output", sscma_model_family(d->teacher));
    char s_text[200], t_text[200];
    const sscma_desc *si = &sg->values[sscma_model_io(student)->image].desc;
    const sscma_desc *ti = &tg->values[sscma_model_io(d->teacher)->image].desc;
    if (!same_sample_shape(si, ti, s_text, sizeof s_text)) {
        same_sample_shape(ti, si, t_text, sizeof t_text);
        return sscma_fail(SSCMA_ERR_SHAPE, path, "distill.teacher_ckpt: the teacher takes images %s, the student %s "
                          "(both see the same batch)", t_text, s_text);
    }
    if (!same_sample_shape(&sg->values[s_logits].desc, &tg->values[t_logits].desc, s_text, sizeof s_text)) {
        same_sample_shape(&tg->values[t_logits].desc, &sg->values[s_logits].desc, t_text, sizeof t_text);
        return sscma_fail(SSCMA_ERR_SHAPE, path, "distill.teacher_ckpt: the teacher's logits are %s, the student's "
                          "%s (the same classes, and for FOMO the same grid, are needed)", t_text, s_text);
    }
    return SSCMA_OK;
}

/* Adds input teacher_logits, kl_div(logits, teacher_logits) and task loss + kl to the student; the sum is its loss. */
static sscma_status attach(sscma_hook *h, sscma_train_loop *loop)
{
    distill_hook *d = (distill_hook *)h;
    sscma_model *student = loop->model;
    sscma_status st = check_pair(d, student, WHERE);
    if (st != SSCMA_OK)
        return st;
    sscma_graph *g = sscma_model_graph(student);
    if (sscma_graph_find(g, TEACHER_INPUT) >= 0)
        return sscma_fail(SSCMA_ERR_STATE, WHERE, "distill: the model already has a distillation loss (a trainer "
                          "that distils into it still exists)");
    /* nodes are added at the nominal batch of 1, as the families build them; the trainer plans again */
    if ((st = sscma_model_prepare(student, 1, 1)) != SSCMA_OK)
        return st;
    d->graph = g, d->n_values = g->n_values, d->n_nodes = g->n_nodes, d->task_loss = sscma_model_io(student)->loss;
    int32_t logits = output_value(student, "logits"), teacher_in = -1, kl = -1, total = -1, n_out = 0;
    const sscma_desc *ld = &g->values[logits].desc;
    if ((st = sscma_graph_add_input(g, TEACHER_INPUT, SSCMA_DTYPE_F32, ld->rank, ld->dims, SSCMA_INPUT_TARGET,
                                    &teacher_in)) == SSCMA_OK) {
        const int32_t kl_in[2] = {logits, teacher_in};
        st = sscma_graph_add_node(g, "distill.kl_div", "kl_div", &d->attrs, kl_in, 2, &kl, &n_out);
    }
    if (st == SSCMA_OK) {
        const int32_t sum_in[2] = {d->task_loss, kl};
        st = sscma_graph_add_node(g, "distill.loss", "add", NULL, sum_in, 2, &total, &n_out);
    }
    if (st == SSCMA_OK)
        st = sscma_model_set_loss(student, total);
    if (st != SSCMA_OK) {
        sscma_model_set_loss(student, d->task_loss);
        sscma_model_truncate_graph(student, d->n_values, d->n_nodes);
        return st;
    }
    d->student = student;
    int64_t params = 0;
    sscma_model_stats(d->teacher, &params, NULL);
    sscma_logf(loop->ctx, SSCMA_LOG_INFO, "distill: teacher %s (%lld parameters), tau %g, loss_weight %g",
               sscma_model_family(d->teacher), (long long)params, (double)d->attrs.tau, (double)d->attrs.loss_weight);
    return SSCMA_OK;
}

/* The teacher's logits of the batch the student is about to see, into the student's teacher_logits input. */
static sscma_status before_forward(sscma_hook *h, sscma_train_loop *loop)
{
    distill_hook *d = (distill_hook *)h;
    sscma_tensor *image = NULL, *teacher_image = NULL, *logits = NULL, *target = NULL;
    int64_t batch = 0;
    sscma_status st = sscma_model_input(loop->model, "image", &image);
    if (st == SSCMA_OK)
        st = sscma_tensor_dim(image, 0, &batch);
    if (st == SSCMA_OK && batch != d->teacher_batch) {
        d->teacher_batch = 0;
        if ((st = sscma_model_prepare(d->teacher, batch, 0)) == SSCMA_OK)
            d->teacher_batch = batch;
    }
    if (st == SSCMA_OK)
        st = sscma_model_input(d->teacher, "image", &teacher_image);
    if (st == SSCMA_OK)
        st = sscma_tensor_copy(image, teacher_image);
    if (st == SSCMA_OK)
        st = sscma_model_forward(d->teacher);
    if (st == SSCMA_OK)
        st = sscma_model_output(d->teacher, "logits", &logits);
    if (st == SSCMA_OK)
        st = sscma_model_input(loop->model, TEACHER_INPUT, &target);
    if (st == SSCMA_OK)
        st = sscma_tensor_copy(logits, target);
    if (st != SSCMA_OK) {
        char detail[700];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return sscma_fail(st, WHERE, "distill: the teacher's forward: %s", detail);
    }
    return SSCMA_OK;
}

static void destroy(sscma_hook *h)
{
    distill_hook *d = (distill_hook *)h;
    /* the student as it was, unless its graph was replaced meanwhile (then the additions went with the old one) */
    if (d->student != NULL && sscma_model_graph(d->student) == d->graph) {
        sscma_model_set_loss(d->student, d->task_loss);
        sscma_model_truncate_graph(d->student, d->n_values, d->n_nodes);
    }
    sscma_model_destroy(d->teacher);
    sscma_mfree(h->ctx, d);
}

static const sscma_hook_ops distill_ops = {
    .name = "Distill", .before_forward = before_forward, .attach = attach, .destroy = destroy,
};

/* The teacher: the model config its checkpoint carries, then its weights, strictly. */
static sscma_status build_teacher(const sscma_context *ctx, const char *path, sscma_model **out)
{
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    json_t *config = json_object_get(ck.header, "config");
    if (!json_is_object(config))
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "distill.teacher_ckpt: the checkpoint carries no model config "
                        "(sscma_model_save and the trainer's checkpoints do)");
    else
        st = sscma_zoo_model_create((sscma_context *)ctx, json_incref(config), path, out);
    sscma_ckpt_close(&ck);
    if (st == SSCMA_OK && (st = sscma_model_load(*out, path)) != SSCMA_OK) {
        sscma_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

sscma_status sscma_hook_distill_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out)
{
    distill_cfg c;
    sscma_status st = sscma_schema_read(distill_fields, node, where, "distill", &c);
    if (st != SSCMA_OK)
        return st;
    if (c.teacher_ckpt == NULL || c.teacher_ckpt[0] == '\0')
        return sscma_schema_expected(where, "distill", "teacher_ckpt", "the teacher's checkpoint (a file path)",
                                     json_object_get(node, "teacher_ckpt"));
    if (!(c.tau > 0.0 && c.tau <= 1000.0))
        return sscma_schema_expected(where, "distill", "tau", "a temperature > 0 (at most 1000)",
                                     json_object_get(node, "tau"));
    if (!(c.loss_weight >= 0.0 && c.loss_weight <= 1e6))
        return sscma_schema_expected(where, "distill", "loss_weight", "a number 0..1e6",
                                     json_object_get(node, "loss_weight"));
    distill_hook *d = sscma_calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the distillation hook");
    d->base.ops = &distill_ops, d->base.ctx = ctx;
    d->attrs.tau = (float)c.tau, d->attrs.loss_weight = (float)c.loss_weight;
    if ((st = build_teacher(ctx, c.teacher_ckpt, &d->teacher)) != SSCMA_OK) {
        sscma_mfree(ctx, d);
        return st;
    }
    *out = &d->base;
    return SSCMA_OK;
}

sscma_model *sscma_hook_distill_teacher(const sscma_hook *h)
{
    return ((const distill_hook *)h)->teacher;
}
