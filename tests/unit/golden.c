#include "golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int golden_load(golden_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return -1;
    char magic[8];
    uint32_t version = 0, count = 0;
    int ok = fread(magic, 1, 8, in) == 8 && memcmp(magic, "SSCMAGLD", 8) == 0 && fread(&version, 4, 1, in) == 1 &&
             fread(&count, 4, 1, in) == 1 && version == 1 && count < 100000;
    if (ok)
        f->records = calloc(count ? count : 1, sizeof *f->records);
    ok = ok && f->records != NULL;
    for (uint32_t i = 0; ok && i < count; i++) {
        golden_record *r = &f->records[i];
        uint32_t len = 0, dtype = 0, rank = 0;
        ok = fread(&len, 4, 1, in) == 1 && len < sizeof r->name && fread(r->name, 1, len, in) == len &&
             fread(&dtype, 4, 1, in) == 1 && fread(&rank, 4, 1, in) == 1 && rank <= SSCMA_TENSOR_MAX_RANK &&
             fread(r->dims, 8, rank, in) == rank;
        if (!ok)
            break;
        r->dtype = dtype == 4 ? SSCMA_DTYPE_I32 : SSCMA_DTYPE_F32;
        r->rank = (int32_t)rank;
        r->numel = 1;
        for (uint32_t d = 0; d < rank; d++)
            r->numel *= r->dims[d];
        size_t bytes = (size_t)r->numel * 4;
        r->data = malloc(bytes ? bytes : 4);
        ok = r->data != NULL && fread(r->data, 1, bytes, in) == bytes;
        f->count = (int)i + 1;
    }
    fclose(in);
    return ok ? 0 : -1;
}

void golden_free(golden_file *f)
{
    for (int i = 0; i < f->count; i++)
        free(f->records[i].data);
    free(f->records);
    memset(f, 0, sizeof *f);
}

const golden_record *golden_find(const golden_file *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->records[i].name, name) == 0)
            return &f->records[i];
    return NULL;
}

double golden_compare(const float *ours, const golden_record *ref, double rtol, int64_t *where)
{
    const float *b = ref->data;
    double rms = 0.0;
    for (int64_t i = 0; i < ref->numel; i++)
        rms += (double)b[i] * b[i];
    rms = sqrt(rms / (double)(ref->numel ? ref->numel : 1));
    double worst = 0.0;
    *where = 0;
    for (int64_t i = 0; i < ref->numel; i++) {
        double allowed = rtol * (fabs((double)b[i]) + rms);
        double ratio = allowed > 0 ? fabs((double)ours[i] - b[i]) / allowed : (ours[i] == b[i] ? 0.0 : INFINITY);
        if (!(ratio <= worst)) {
            worst = ratio;
            *where = i;
        }
    }
    return worst;
}
