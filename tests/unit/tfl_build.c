/* Hand-made TFLite files for operator tests (tfl_build.h). */
#include "tfl_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/flatbuf.h"

void tfl_build_init(tfl_build *m)
{
    memset(m, 0, sizeof *m);
}

void tfl_build_free(tfl_build *m)
{
    for (int32_t i = 0; i < m->n_t; i++)
        free(m->t[i].data);
    memset(m, 0, sizeof *m);
}

int32_t tfl_tensor(tfl_build *m, const char *name, int8_t type, int32_t rank, const int32_t *dims, float scale,
                   int32_t zero_point, const void *data, size_t bytes)
{
    if (m->n_t == TFLB_MAX_TENSORS || rank < 0 || rank > 6)
        return -1;
    tfl_build_tensor *t = &m->t[m->n_t];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type, t->rank = rank;
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    if (scale > 0.0f)
        t->n_q = 1, t->scale[0] = scale, t->zero_point[0] = zero_point;
    if (data != NULL) {
        t->data = malloc(bytes ? bytes : 1);
        memcpy(t->data, data, bytes);
        t->bytes = bytes;
    }
    return m->n_t++;
}

void tfl_tensor_signature(tfl_build *m, int32_t t, const int32_t *signature)
{
    tfl_build_tensor *x = &m->t[t];
    memcpy(x->signature, signature, (size_t)x->rank * sizeof *signature);
    x->has_signature = true;
}

void tfl_tensor_per_channel(tfl_build *m, int32_t t, int32_t dim, const float *scales, int32_t n)
{
    tfl_build_tensor *x = &m->t[t];
    x->n_q = n > 16 ? 16 : n, x->q_dim = dim;
    for (int32_t k = 0; k < x->n_q; k++)
        x->scale[k] = scales[k], x->zero_point[k] = 0;
}

tfl_op *tfl_operator(tfl_build *m, int32_t code, const int32_t *in, int32_t n_in, const int32_t *out, int32_t n_out)
{
    if (m->n_ops == TFLB_MAX_OPS || n_in > 8 || n_out > 8)
        return NULL;
    tfl_op *o = &m->ops[m->n_ops++];
    memset(o, 0, sizeof *o);
    o->code = code, o->version = 1;
    memcpy(o->in, in, (size_t)n_in * sizeof *in), o->n_in = n_in;
    memcpy(o->out, out, (size_t)n_out * sizeof *out), o->n_out = n_out;
    return o;
}

static tfl_option *add_option(tfl_op *o, int32_t field, char kind, uint8_t type)
{
    o->options_type = type;
    tfl_option *x = &o->options[o->n_options++];
    memset(x, 0, sizeof *x);
    x->field = field, x->kind = kind;
    return x;
}

void tfl_option_u8(tfl_op *o, int32_t field, int32_t v, uint8_t type)
{
    add_option(o, field, 'b', type)->i = v;
}

void tfl_option_i32(tfl_op *o, int32_t field, int32_t v, uint8_t type)
{
    add_option(o, field, 'i', type)->i = v;
}

void tfl_option_f32(tfl_op *o, int32_t field, float v, uint8_t type)
{
    add_option(o, field, 'f', type)->f = v;
}

void tfl_option_vec(tfl_op *o, int32_t field, const int32_t *v, int32_t n, uint8_t type)
{
    tfl_option *x = add_option(o, field, 'v', type);
    x->n_vec = n > 8 ? 8 : n;
    memcpy(x->vec, v, (size_t)x->n_vec * sizeof *v);
}

bool tfl_build_write(const tfl_build *m, const int32_t *inputs, int32_t n_in, const int32_t *outputs, int32_t n_out,
                     const char *path)
{
    fb_builder b;
    fb_init(&b, NULL);
    fb_ref brefs[TFLB_MAX_TENSORS + 1], trefs[TFLB_MAX_TENSORS], orefs[TFLB_MAX_OPS], crefs[TFLB_MAX_OPS];
    uint32_t buf_of[TFLB_MAX_TENSORS];
    int32_t n_buf = 1;
    fb_table_start(&b);
    brefs[0] = fb_table_end(&b);
    for (int32_t i = 0; i < m->n_t; i++) {
        buf_of[i] = 0;
        if (m->t[i].data == NULL)
            continue;
        fb_ref v = fb_vector(&b, m->t[i].data, m->t[i].bytes, 1, 16);
        fb_table_start(&b);
        fb_field_ref(&b, 0, v);
        brefs[n_buf] = fb_table_end(&b);
        buf_of[i] = (uint32_t)n_buf++;
    }
    fb_ref buffers = fb_vector_refs(&b, brefs, (size_t)n_buf);
    for (int32_t i = 0; i < m->n_t; i++) {
        const tfl_build_tensor *t = &m->t[i];
        fb_ref quant = 0;
        if (t->n_q > 0) {
            fb_ref sv = fb_vector_f32(&b, t->scale, (size_t)t->n_q);
            fb_ref zv = fb_vector_i64(&b, t->zero_point, (size_t)t->n_q);
            fb_table_start(&b);
            fb_field_ref(&b, 2, sv);
            fb_field_ref(&b, 3, zv);
            fb_field_i32(&b, 6, t->q_dim);
            quant = fb_table_end(&b);
        }
        fb_ref shape = fb_vector_i32(&b, t->dims, (size_t)t->rank);
        fb_ref sig = t->has_signature ? fb_vector_i32(&b, t->signature, (size_t)t->rank) : 0;
        fb_ref name = fb_string(&b, t->name);
        fb_table_start(&b);
        fb_field_ref(&b, 0, shape);
        fb_field_u8(&b, 1, (uint8_t)t->type);
        fb_field_u32(&b, 2, buf_of[i]);
        fb_field_ref(&b, 3, name);
        if (quant)
            fb_field_ref(&b, 4, quant);
        if (sig)
            fb_field_ref(&b, 7, sig);
        trefs[i] = fb_table_end(&b);
    }
    fb_ref tensors = fb_vector_refs(&b, trefs, (size_t)m->n_t);
    int32_t codes[TFLB_MAX_OPS], versions[TFLB_MAX_OPS], n_codes = 0;
    for (int32_t i = 0; i < m->n_ops; i++) {
        const tfl_op *o = &m->ops[i];
        int32_t c = 0;
        while (c < n_codes && codes[c] != o->code)
            c++;
        if (c == n_codes)
            codes[n_codes] = o->code, versions[n_codes++] = o->version;
        fb_ref opts = 0;
        if (o->options_type != 0) {
            fb_ref vecs[TFLB_MAX_OPTIONS] = {0};
            for (int32_t k = 0; k < o->n_options; k++)
                if (o->options[k].kind == 'v')
                    vecs[k] = fb_vector_i32(&b, o->options[k].vec, (size_t)o->options[k].n_vec);
            fb_table_start(&b);
            for (int32_t k = 0; k < o->n_options; k++) {
                const tfl_option *x = &o->options[k];
                if (x->kind == 'b')
                    fb_field_u8(&b, x->field, (uint8_t)x->i);
                else if (x->kind == 'i')
                    fb_field_i32(&b, x->field, x->i);
                else if (x->kind == 'f')
                    fb_field_f32(&b, x->field, x->f);
                else
                    fb_field_ref(&b, x->field, vecs[k]);
            }
            opts = fb_table_end(&b);
        }
        fb_ref ins = fb_vector_i32(&b, o->in, (size_t)o->n_in);
        fb_ref outs = fb_vector_i32(&b, o->out, (size_t)o->n_out);
        fb_table_start(&b);
        fb_field_u32(&b, 0, (uint32_t)c);
        fb_field_ref(&b, 1, ins);
        fb_field_ref(&b, 2, outs);
        if (opts) {
            fb_field_u8(&b, 3, o->options_type);
            fb_field_ref(&b, 4, opts);
        }
        orefs[i] = fb_table_end(&b);
    }
    fb_ref operators = fb_vector_refs(&b, orefs, (size_t)m->n_ops);
    fb_ref vin = fb_vector_i32(&b, inputs, (size_t)n_in);
    fb_ref vout = fb_vector_i32(&b, outputs, (size_t)n_out);
    fb_table_start(&b);
    fb_field_ref(&b, 0, tensors);
    fb_field_ref(&b, 1, vin);
    fb_field_ref(&b, 2, vout);
    fb_field_ref(&b, 3, operators);
    fb_ref subgraph = fb_table_end(&b);
    fb_ref subgraphs = fb_vector_refs(&b, &subgraph, 1);
    for (int32_t c = 0; c < n_codes; c++) {
        fb_table_start(&b);
        fb_field_u8(&b, 0, (uint8_t)(codes[c] < 127 ? codes[c] : 127));
        fb_field_i32(&b, 2, versions[c]);
        fb_field_i32(&b, 3, codes[c]);
        crefs[c] = fb_table_end(&b);
    }
    fb_ref opcodes = fb_vector_refs(&b, crefs, (size_t)n_codes);
    fb_table_start(&b);
    fb_field_u32(&b, 0, 3);
    fb_field_ref(&b, 1, opcodes);
    fb_field_ref(&b, 2, subgraphs);
    fb_field_ref(&b, 4, buffers);
    fb_ref model = fb_table_end(&b);
    const uint8_t *data;
    size_t size;
    bool ok = fb_finish(&b, model, "TFL3", &data, &size);
    FILE *f = ok ? fopen(path, "wb") : NULL;
    ok = f != NULL && fwrite(data, 1, size, f) == size;
    if (f != NULL && fclose(f) != 0)
        ok = false;
    fb_free(&b);
    return ok;
}
